-- stg_splits: kilometre splits of detailed activities (Strava splits_metric).
-- grain: one row per activity per split
-- columns:
--   activity_id, athlete_id, split: 1-based kilometre index
--   distance_m, moving_time_s: the split as recorded (the last one is usually partial)
--   pace_s_per_km: moving seconds per kilometre over the split
--   average_hr: average heart rate in the split
with source as (
    select * from splits
),

renamed as (
    select
        activity_id,
        athlete_id,
        split,
        distance as distance_m,
        coalesce(moving_time, elapsed_time) as moving_time_s,
        coalesce(moving_time, elapsed_time) / nullif(distance / 1000.0, 0) as pace_s_per_km,
        average_heartrate as average_hr
    from source
)

select * from renamed
