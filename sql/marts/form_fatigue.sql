-- form_fatigue: per run, steps per minute and how cadence, pace and heart rate change from the
--   first third to the last third (from the streams, when fetched).
-- grain: one row per run
-- columns:
--   athlete_id, activity_id, day, week_start, moving_time_s
--   steps_per_min: the run's average (Strava cadence x 2)
--   first_third_spm, last_third_spm, cadence_drop (share, 0.05 = 5% fewer steps per minute)
--   first_third_pace_s_per_km, last_third_pace_s_per_km, pace_fade (share, > 0 = slower)
--   first_third_hr, last_third_hr, hr_drift (share, > 0 = higher heart rate late in the run)
--   long_enough: at least posture.form_fading min_minutes (45) of moving time
--   fading: long enough and cadence dropped or pace faded past the form_fading thresholds
select
    athlete_id,
    activity_id,
    day,
    week_start,
    moving_time_s,
    steps_per_min,
    first_third_spm,
    last_third_spm,
    cadence_drop,
    first_third_pace_s_per_km,
    last_third_pace_s_per_km,
    pace_fade,
    first_third_hr,
    last_third_hr,
    hr_drift,
    long_enough,
    fading
from int_run_form
