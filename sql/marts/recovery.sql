-- recovery: big runs and how soon the athlete ran again.
-- grain: one row per big run
-- columns:
--   athlete_id, activity_id, day, week_start, distance_km, moving_time_s
--   previous_longest_km: longest run in the big_run_lookback_days (28) before it (null: none)
--   longest_in_lookback: longer than every run in that look-back, once the athlete's history
--     covers the whole look-back (before that backstride cannot tell a big run from a first one)
--   long_duration: moving time of at least big_run_minutes (90)
--   next_run_id, next_run_day, next_run_week_start: the athlete's next run
--   hours_to_next_run, days_to_next_run: from start to start
--   too_soon: the next run started less than big_run_min_rest_hours (48) after this one
with runs as (
    select * from int_runs
),

params as (
    select
        athlete_id,
        big_run_lookback_days,
        big_run_minutes,
        big_run_min_rest_hours
    from int_params
),

big_runs as (
    select
        runs.*,
        coalesce(
            runs.distance_km > runs.prev_longest_big_km
            and date_diff('day', int_weeks.first_activity_day, runs.day) >= params.big_run_lookback_days,
            false
        ) as longest_in_lookback,
        runs.moving_time_s >= params.big_run_minutes * 60 as long_duration,
        params.big_run_min_rest_hours
    from runs
    inner join params on runs.athlete_id = params.athlete_id
    inner join int_weeks on runs.athlete_id = int_weeks.athlete_id and runs.week_start = int_weeks.week_start
)

select
    athlete_id,
    activity_id,
    day,
    week_start,
    distance_km,
    moving_time_s,
    prev_longest_big_km as previous_longest_km,
    longest_in_lookback,
    long_duration,
    next_run_id,
    cast(next_run_start as date) as next_run_day,
    cast(date_trunc('week', next_run_start) as date) as next_run_week_start,
    round(hours_to_next_run, 2) as hours_to_next_run,
    round(hours_to_next_run / 24, 1) as days_to_next_run,
    coalesce(hours_to_next_run < big_run_min_rest_hours, false) as too_soon
from big_runs
where longest_in_lookback or long_duration
