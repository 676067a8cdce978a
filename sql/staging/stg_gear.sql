-- stg_gear: shoes and bikes as Strava reports them.
-- grain: one row per gear item
-- columns:
--   gear_id, athlete_id: ids; name, brand_name, model_name: labels
--   gear_type: shoe | bike
--   distance_km: Strava's running total for the gear (it includes walks in that shoe)
--   retired: the athlete marked it retired; is_primary: the athlete's default gear
with source as (
    select * from gear
),

renamed as (
    select
        gear_id,
        athlete_id,
        name,
        brand_name,
        model_name,
        gear_type,
        coalesce(distance, 0) / 1000.0 as distance_km,
        coalesce(retired, false) as retired,
        coalesce(is_primary, false) as is_primary
    from source
)

select * from renamed
