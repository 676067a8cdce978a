-- flag_surface_no_soft_surface: weeks whose last 4 weeks had runs but none on a softer surface.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: runs in the surface_window_days (28, whole weeks ending this Sunday) and none of them a
--   TrailRun or titled/noted with trail, grass or track words: info. Only once the athlete's
--   history covers the whole window (rule_readiness: we cannot see before it).
-- materialized: view
with windowed as (
    select
        int_week_windows.athlete_id,
        int_week_windows.week_start,
        int_week_windows.surface_weeks as window_weeks,
        int_week_windows.surface_runs as runs,
        int_week_windows.surface_soft_runs as soft_surface_runs,
        int_week_windows.surface_treadmill_runs as treadmill_runs
    from int_week_windows
    inner join rule_readiness
        on
            int_week_windows.athlete_id = rule_readiness.athlete_id
            and int_week_windows.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'surface.no_soft_surface'
    where rule_readiness.ready
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
where runs > 0 and soft_surface_runs = 0
