-- stg_athletes: the registered athletes and the zone their weeks are counted in.
-- grain: one row per athlete
-- columns:
--   athlete_id: Strava athlete id
--   timezone: IANA zone; UTC when missing or not a zone DuckDB knows (one bad value must not
--     stop the whole build)
with source as (
    select * from athletes
),

known_zones as (
    select name from pg_timezone_names()
),

renamed as (
    select
        source.athlete_id,
        coalesce(known_zones.name, 'UTC') as timezone
    from source
    left join known_zones on source.timezone = known_zones.name
)

select * from renamed
