-- Append the new bodies (`incoming_landing`, landing ids already drawn) in order of arrival.
insert into landing
select
    landing_id,
    athlete_id,
    endpoint,
    object_id,
    fetched_at,
    batch_id,
    payload::json,
    raw_text,
    parse_error,
    payload_hash
from incoming_landing
order by pos
