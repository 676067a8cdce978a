-- int_run_form: how cadence, pace and heart rate change from the first to the last third of a run.
-- grain: one row per run
-- columns:
--   activity_id, athlete_id, day, week_start, moving_time_s
--   steps_per_min: the run's average steps per minute (Strava cadence x 2)
--   first_third_spm, last_third_spm, cadence_drop: 1 - last / first (0.05 = 5% fewer steps)
--   first_third_pace_s_per_km, last_third_pace_s_per_km, pace_fade: last / first - 1 (slower > 0)
--   first_third_hr, last_third_hr, hr_drift: last / first - 1
--   long_enough: moving time of at least fade_min_minutes
--   fading: long enough and cadence_drop >= fade_cadence_drop or pace_fade >= fade_pace_fade
-- materialized: table
with runs as (
    select
        activity_id,
        athlete_id,
        day,
        week_start,
        moving_time_s,
        steps_per_min
    from int_runs
),

params as (
    select
        athlete_id,
        fade_min_minutes,
        fade_cadence_drop,
        fade_pace_fade
    from int_params
),

measured as (
    select
        runs.*,
        streams.first_third_spm,
        streams.last_third_spm,
        round(1 - streams.last_third_spm / streams.first_third_spm, 4) as cadence_drop,
        streams.first_third_pace_s_per_km,
        streams.last_third_pace_s_per_km,
        round(streams.last_third_pace_s_per_km / streams.first_third_pace_s_per_km - 1, 4) as pace_fade,
        streams.first_third_hr,
        streams.last_third_hr,
        round(streams.last_third_hr / streams.first_third_hr - 1, 4) as hr_drift,
        runs.moving_time_s >= params.fade_min_minutes * 60 as long_enough,
        params.fade_cadence_drop,
        params.fade_pace_fade
    from runs
    inner join params on runs.athlete_id = params.athlete_id
    left join stg_stream_features as streams on runs.activity_id = streams.activity_id
)

select
    * exclude (fade_cadence_drop, fade_pace_fade),
    coalesce(
        long_enough and (cadence_drop >= fade_cadence_drop or pace_fade >= fade_pace_fade), false
    ) as fading
from measured
