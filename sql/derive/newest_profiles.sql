-- The rows of temp table newest_profiles (the loader creates it from this query): one row per
-- athlete with any row in the pending batches, holding that athlete's newest landed profile
-- body (endpoint 'athlete'), from whichever batch it came. Read by derive/athletes and derive/gear.
with touched_athletes as (
    select distinct athlete_id from landing
    where batch_id in (select pb.batch_id from pending_batches as pb)
),

profiles as (
    select
        l.athlete_id,
        l.landing_id,
        l.payload,
        l.fetched_at,
        row_number() over (partition by l.athlete_id order by l.landing_id desc) as newest
    from landing as l inner join touched_athletes on l.athlete_id = touched_athletes.athlete_id
    where l.endpoint = 'athlete' and l.payload is not null
)

select
    athlete_id,
    landing_id,
    payload,
    fetched_at
from profiles
where newest = 1
