-- The newest streams body of each activity touched by the pending batches:
-- (activity_id, athlete_id, landing_id, payload text), summarised in Python.
with touched as (
    select distinct object_id from landing
    where batch_id in (select pb.batch_id from pending_batches as pb) and endpoint = 'streams'
)

select
    try_cast(l.object_id as bigint) as activity_id,
    l.athlete_id,
    l.landing_id,
    l.payload::varchar as payload
from landing as l
inner join touched on l.object_id = touched.object_id
where l.endpoint = 'streams' and l.payload is not null
qualify row_number() over (partition by l.object_id order by l.landing_id desc) = 1
