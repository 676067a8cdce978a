-- The positions of the incoming bodies (`incoming_landing`) not stored yet: the first of
-- identical copies in this batch, and none already landed for the same object and athlete.
select i.pos
from (
    select
        *,
        row_number() over (partition by endpoint, object_id, payload_hash order by pos) as dup
    from incoming_landing
) as i
where
    i.dup = 1
    and not exists (
        select 1 from landing as l
        where
            l.endpoint = i.endpoint
            and l.object_id is not distinct from i.object_id
            and l.payload_hash = i.payload_hash
            and l.athlete_id = i.athlete_id
    )
order by i.pos
