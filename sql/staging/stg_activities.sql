-- stg_activities: every activity ingestion typed, with Strava's units made explicit.
-- grain: one row per activity (any sport)
-- columns:
--   activity_id, athlete_id: Strava ids
--   name, description: the athlete's title and notes ('' when missing)
--   sport_type: Strava sport_type (falls back to the legacy type)
--   start_date_utc: start instant (UTC); start_date_local: wall clock in the athlete's zone
--   distance_km, moving_time_s, elapsed_time_s, elevation_gain_m: as recorded
--   average_hr: average heart rate (bpm, null without a monitor)
--   steps_per_min: average_cadence x 2 (Strava reports strides, one foot, per minute for runs)
--   gear_id: the gear used (null when none), trainer: indoor/treadmill flag
with source as (
    select * from activities
),

renamed as (
    select
        activity_id,
        athlete_id,
        coalesce(name, '') as name,
        coalesce(description, '') as description,
        coalesce(sport_type, type) as sport_type,
        start_date as start_date_utc,
        start_date_local,
        coalesce(distance, 0) / 1000.0 as distance_km,
        coalesce(moving_time, 0) as moving_time_s,
        coalesce(elapsed_time, moving_time, 0) as elapsed_time_s,
        coalesce(total_elevation_gain, 0) as elevation_gain_m,
        nullif(average_heartrate, 0) as average_hr,
        nullif(average_cadence, 0) * 2 as steps_per_min,
        nullif(gear_id, '') as gear_id,
        coalesce(trainer, false) as trainer
    from source
)

select * from renamed
