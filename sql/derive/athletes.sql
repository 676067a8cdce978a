-- One row per athlete whose profile the pending batches landed: the newest profile's fields
-- over the registered athlete row.
with touched as (
    select distinct athlete_id from landing
    where batch_id in (select pb.batch_id from pending_batches as pb) and endpoint = 'athlete'
)

select
    a.athlete_id,
    coalesce(p.payload ->> 'firstname', a.firstname) as firstname,
    coalesce(p.payload ->> 'lastname', a.lastname) as lastname,
    coalesce(p.payload ->> 'city', a.city) as city,
    coalesce(p.payload ->> 'country', a.country) as country,
    coalesce(p.payload ->> 'sex', a.sex) as sex,
    a.email,
    a.timezone,
    a.digest_enabled,
    a.needs_reauth,
    a.registered_at,
    p.fetched_at as profile_updated_at
from newest_profiles as p
inner join touched on p.athlete_id = touched.athlete_id
inner join athletes as a on p.athlete_id = a.athlete_id
