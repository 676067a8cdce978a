-- flag_surface_no_soft_surface: weeks whose last 4 weeks had runs but none on a softer surface.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: runs in the surface_window_days (28, whole weeks ending this Sunday) and none of them a
--   TrailRun or titled/noted with trail, grass or track words: info. Only once the athlete's
--   history covers the whole window (we cannot see before it).
-- materialized: view
with params as (
    select
        athlete_id,
        cast(ceil(surface_window_days / 7) as integer) as window_weeks
    from int_params
),

windowed as (
    select
        int_week_activity.athlete_id,
        int_week_activity.week_start,
        int_week_activity.week_index,
        params.window_weeks,
        sum(int_week_activity.runs) over recent as runs,
        sum(int_week_activity.soft_surface_runs) over recent as soft_surface_runs,
        sum(int_week_activity.treadmill_runs) over recent as treadmill_runs
    from int_week_activity
    inner join params on int_week_activity.athlete_id = params.athlete_id
    window recent as (
        partition by int_week_activity.athlete_id order by int_week_activity.week_start
        rows between params.window_weeks - 1 preceding and current row  -- noqa: PRS
    )
)

select
    athlete_id,
    week_start,
    'surface.no_soft_surface' as rule_id,
    'info' as severity,
    format(
        'None of your {:d} runs in the last {:d} weeks was on trail, grass or a track, as far as Strava shows. '
        || 'A weekly session on grass or trail is a common suggestion for runners on pavement '
        || '(a rule of thumb: the evidence on surfaces is weak and mixed).',
        cast(runs as integer),
        window_weeks
    ) as message,
    json_object(
        'runs', runs,
        'soft_surface_runs', soft_surface_runs,
        'treadmill_runs', treadmill_runs,
        'window_weeks', window_weeks
    ) as metrics
from windowed
where runs > 0 and soft_surface_runs = 0 and week_index >= window_weeks - 1
