-- stg_gear: shoes and bikes as Strava reports them.
-- grain: one row per gear item
-- columns:
--   gear_id, athlete_id: ids; name, brand_name, model_name: labels
--   gear_type: shoe | bike
--   distance_km: Strava's running total for the gear (it includes walks in that shoe); null when
--     the gear is missing (its total is unknown)
--   retired: the athlete marked it retired; is_primary: the athlete's default gear
--   missing: Strava answered 404 for this gear id (a shoe seen on activities whose details
--     cannot be read: no name, no total); false when the gear table has no such column yet
with source as (
    select * from gear
    -- `gear.missing` is added by a schema migration; until then every gear row is known.
    union all by name
    select cast(null as boolean) as missing
    where false
),

renamed as (
    select
        gear_id,
        athlete_id,
        name,
        brand_name,
        model_name,
        gear_type,
        case when coalesce(missing, false) then null else coalesce(distance, 0) / 1000.0 end as distance_km,
        coalesce(retired, false) as retired,
        coalesce(is_primary, false) as is_primary,
        coalesce(missing, false) as missing
    from source
)

select * from renamed
