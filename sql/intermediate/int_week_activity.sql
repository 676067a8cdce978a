-- int_week_activity: what each athlete did in each ISO week, counted for the weekly rules.
-- grain: one row per athlete per ISO week (every week of int_weeks, zero-activity weeks included)
-- columns:
--   athlete_id, week_start, week_end, week_index
--   runs, distance_km, moving_time_s, longest_run_km, elevation_gain_m, load: runs only
--   runs_without_shoe: runs with no gear, or gear that is not a shoe
--   soft_surface_runs, treadmill_runs: runs by surface category
--   soft_surface_km, treadmill_km
--   cadence_runs: runs with a cadence; cadence_minutes: their moving minutes
--   steps_per_min: moving-time-weighted average steps per minute of those runs
--   strength_sessions, strength_minutes: strength/core/yoga/pilates activities
--   pain_activities: activities (any sport) whose name or description has pain words
--   warmup_known, warmup_runs: runs whose warm-up is known, and those that had one
-- materialized: table
with weeks as (
    select * from int_weeks
),

activity_weeks as (
    select
        athlete_id,
        week_start,
        count(*) filter (where is_run) as runs,
        coalesce(sum(distance_km) filter (where is_run), 0) as distance_km,
        coalesce(sum(moving_time_s) filter (where is_run), 0) as moving_time_s,
        coalesce(max(distance_km) filter (where is_run), 0) as longest_run_km,
        coalesce(sum(elevation_gain_m) filter (where is_run), 0) as elevation_gain_m,
        coalesce(sum(load) filter (where is_run), 0) as load,
        count(*) filter (where is_run and shoe_id is null) as runs_without_shoe,
        count(*) filter (where is_run and is_soft_surface) as soft_surface_runs,
        count(*) filter (where is_run and is_treadmill) as treadmill_runs,
        coalesce(sum(distance_km) filter (where is_run and is_soft_surface), 0) as soft_surface_km,
        coalesce(sum(distance_km) filter (where is_run and is_treadmill), 0) as treadmill_km,
        count(*) filter (where is_run and steps_per_min is not null) as cadence_runs,
        sum(moving_time_s / 60.0) filter (where is_run and steps_per_min is not null) as cadence_minutes,
        sum(steps_per_min * moving_time_s) filter (where is_run and steps_per_min is not null)
        / nullif(sum(moving_time_s) filter (where is_run and steps_per_min is not null), 0) as steps_per_min,
        count(*) filter (where is_strength) as strength_sessions,
        coalesce(sum(moving_time_s / 60.0) filter (where is_strength), 0) as strength_minutes,
        count(*) filter (where len(pain_words) > 0) as pain_activities
    from int_activities
    group by athlete_id, week_start
),

preparation_weeks as (
    select
        athlete_id,
        week_start,
        count(has_warmup) as warmup_known,
        count(*) filter (where has_warmup) as warmup_runs
    from int_run_preparation
    group by athlete_id, week_start
)

select
    weeks.athlete_id,
    weeks.week_start,
    weeks.week_end,
    weeks.week_index,
    coalesce(activity_weeks.runs, 0) as runs,
    coalesce(activity_weeks.distance_km, 0) as distance_km,
    coalesce(activity_weeks.moving_time_s, 0) as moving_time_s,
    coalesce(activity_weeks.longest_run_km, 0) as longest_run_km,
    coalesce(activity_weeks.elevation_gain_m, 0) as elevation_gain_m,
    coalesce(activity_weeks.load, 0) as load,
    coalesce(activity_weeks.runs_without_shoe, 0) as runs_without_shoe,
    coalesce(activity_weeks.soft_surface_runs, 0) as soft_surface_runs,
    coalesce(activity_weeks.treadmill_runs, 0) as treadmill_runs,
    coalesce(activity_weeks.soft_surface_km, 0) as soft_surface_km,
    coalesce(activity_weeks.treadmill_km, 0) as treadmill_km,
    coalesce(activity_weeks.cadence_runs, 0) as cadence_runs,
    coalesce(activity_weeks.cadence_minutes, 0) as cadence_minutes,
    activity_weeks.steps_per_min,
    coalesce(activity_weeks.strength_sessions, 0) as strength_sessions,
    coalesce(activity_weeks.strength_minutes, 0) as strength_minutes,
    coalesce(activity_weeks.pain_activities, 0) as pain_activities,
    coalesce(preparation_weeks.warmup_known, 0) as warmup_known,
    coalesce(preparation_weeks.warmup_runs, 0) as warmup_runs
from weeks
left join activity_weeks
    on weeks.athlete_id = activity_weeks.athlete_id and weeks.week_start = activity_weeks.week_start
left join preparation_weeks
    on weeks.athlete_id = preparation_weeks.athlete_id and weeks.week_start = preparation_weeks.week_start
