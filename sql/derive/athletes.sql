-- One row per athlete whose profile the pending batches landed: the newest profile's fields
-- over the registered athlete row.
with touched as (
    select distinct athlete_id from landing
    where batch_id in (select pb.batch_id from pending_batches as pb) and endpoint = 'athlete'
),

profile as (
    select
        l.athlete_id,
        l.payload,
        l.fetched_at,
        row_number() over (partition by l.athlete_id order by l.landing_id desc) as newest
    from landing as l inner join touched on l.athlete_id = touched.athlete_id
    where l.endpoint = 'athlete' and l.payload is not null
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
from profile as p inner join athletes as a on p.athlete_id = a.athlete_id
where p.newest = 1
