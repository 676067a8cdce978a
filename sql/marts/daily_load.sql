-- daily_load: running load per local calendar day, every day of the athlete's weeks.
-- grain: one row per athlete per day, Monday of the first activity week to Sunday of the last
--   (days without a run have zeros)
-- columns:
--   athlete_id, day, week_start (the Monday of the day's ISO week)
--   runs: runs that started that day (local time)
--   distance_km, moving_time_s, longest_run_km, elevation_gain_m: summed / max over those runs
--   load: sum of the runs' load = moving minutes x average HR / hr_reference_bpm (the seed's
--     `load` parameter, 150 bpm by default); a run without HR counts its moving minutes.
--     So an hour at 150 bpm is 60, an hour at 165 bpm is 66. Only runs count.
with days as (
    select
        athlete_id,
        week_start,
        cast(unnest(generate_series(week_start, week_end, interval 1 day)) as date) as day
    from int_weeks
),

run_days as (
    select
        athlete_id,
        day,
        count(*) as runs,
        sum(distance_km) as distance_km,
        sum(moving_time_s) as moving_time_s,
        max(distance_km) as longest_run_km,
        sum(elevation_gain_m) as elevation_gain_m,
        sum(load) as load
    from int_runs
    group by athlete_id, day
)

select
    days.athlete_id,
    days.day,
    days.week_start,
    cast(coalesce(run_days.runs, 0) as integer) as runs,
    coalesce(run_days.distance_km, 0) as distance_km,
    cast(coalesce(run_days.moving_time_s, 0) as bigint) as moving_time_s,
    coalesce(run_days.longest_run_km, 0) as longest_run_km,
    coalesce(run_days.elevation_gain_m, 0) as elevation_gain_m,
    coalesce(run_days.load, 0) as load
from days
left join run_days on days.athlete_id = run_days.athlete_id and days.day = run_days.day
