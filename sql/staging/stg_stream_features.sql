-- stg_stream_features: per-run summaries of the time streams (first vs last third).
-- grain: one row per activity with streams
-- columns:
--   activity_id, athlete_id
--   duration_s: length of the time stream
--   first_third_spm, last_third_spm: steps per minute in the first and last third of the time
--   first_third_pace_s_per_km, last_third_pace_s_per_km: pace in those thirds
--   first_third_hr, last_third_hr: heart rate in those thirds
with source as (
    select * from stream_features
),

renamed as (
    select
        activity_id,
        athlete_id,
        duration_s,
        nullif(first_third_spm, 0) as first_third_spm,
        nullif(last_third_spm, 0) as last_third_spm,
        nullif(first_third_pace_s_per_km, 0) as first_third_pace_s_per_km,
        nullif(last_third_pace_s_per_km, 0) as last_third_pace_s_per_km,
        nullif(first_third_hr, 0) as first_third_hr,
        nullif(last_third_hr, 0) as last_third_hr
    from source
)

select * from renamed
