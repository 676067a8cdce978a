-- One row per gear item of the athletes touched by the pending batches: the shoes of the newest
-- profile, the newest gear detail bodies and the gear ids Strava answered 404 for.
with touched_athletes as (
    select distinct athlete_id from landing
    where
        batch_id in (select pb.batch_id from pending_batches as pb) and endpoint in ('athlete', 'gear', 'gear_missing')
),

shoes as (
    select
        p.athlete_id,
        p.landing_id,
        unnest(coalesce(try_cast(p.payload -> '$.shoes[*]' as json[]), []::json[])) as g
    from newest_profiles as p inner join touched_athletes on p.athlete_id = touched_athletes.athlete_id
),

shoe_rows as (
    select
        athlete_id,
        landing_id,
        g ->> 'id' as gear_id,
        g ->> 'name' as name,
        try_cast(g ->> 'distance' as double) as distance,
        try_cast(g ->> 'retired' as boolean) as retired,
        try_cast(g ->> 'primary' as boolean) as is_primary
    from shoes
),

details as (
    select
        l.athlete_id,
        l.landing_id,
        l.object_id as gear_id,
        l.payload,
        row_number() over (partition by l.object_id order by l.landing_id desc) as newest
    from landing as l inner join touched_athletes on l.athlete_id = touched_athletes.athlete_id
    where l.endpoint = 'gear' and l.payload is not null
),

detail_rows as (
    select * from details
    where newest = 1
),

-- Strava answered 404 for the gear id (sync lands a marker): the gear is recorded as missing,
-- unless a body arrived later
not_found as (
    select
        l.athlete_id,
        l.object_id as gear_id,
        max(l.landing_id) as landing_id
    from landing as l inner join touched_athletes on l.athlete_id = touched_athletes.athlete_id
    where l.endpoint = 'gear_missing' and l.object_id is not null
    group by all
),

ids as (
    select
        athlete_id,
        gear_id
    from shoe_rows
    union
    select
        athlete_id,
        gear_id
    from detail_rows
    union
    select
        athlete_id,
        gear_id
    from not_found
)

select
    ids.gear_id,
    ids.athlete_id,
    coalesce(d.payload ->> 'name', s.name) as name,
    d.payload ->> 'brand_name' as brand_name,
    d.payload ->> 'model_name' as model_name,
    case
        when s.gear_id is not null or ids.gear_id like 'g%' then 'shoe'
        when n.gear_id is not null and d.gear_id is null and ids.gear_id not like 'b%' then 'shoe'
        else 'bike'
    end as gear_type,
    -- the newer of the profile's running total and the gear detail's
    case
        when s.landing_id is not null and (d.landing_id is null or s.landing_id > d.landing_id)
            then s.distance
        else try_cast(d.payload ->> 'distance' as double)
    end as distance,
    coalesce(try_cast(d.payload ->> 'retired' as boolean), s.retired, false) as retired,
    coalesce(s.is_primary, try_cast(d.payload ->> 'primary' as boolean), false) as is_primary,
    n.gear_id is not null and (d.landing_id is null or n.landing_id > d.landing_id) as missing,
    greatest(coalesce(s.landing_id, 0), coalesce(d.landing_id, 0), coalesce(n.landing_id, 0)) as landing_id,
    now() as loaded_at
from ids
left join shoe_rows as s on ids.gear_id = s.gear_id and ids.athlete_id = s.athlete_id
left join detail_rows as d on ids.gear_id = d.gear_id and ids.athlete_id = d.athlete_id
left join not_found as n on ids.gear_id = n.gear_id and ids.athlete_id = n.athlete_id
where ids.gear_id is not null
