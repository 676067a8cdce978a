-- stg_athletes: the registered athletes and the zone their weeks are counted in.
-- grain: one row per athlete
-- columns:
--   athlete_id: Strava athlete id
--   timezone: IANA zone (defaults to UTC)
with source as (
    select * from athletes
),

renamed as (
    select
        athlete_id,
        coalesce(nullif(timezone, ''), 'UTC') as timezone
    from source
)

select * from renamed
