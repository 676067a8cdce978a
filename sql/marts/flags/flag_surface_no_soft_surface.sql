-- flag_surface_no_soft_surface: weeks whose last 4 weeks had runs but none on a softer surface.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: runs in the surface_window_days (28, whole weeks ending this Sunday) and none of them a
--   TrailRun or titled/noted with trail, grass or track words: info. Only once the athlete's
--   history covers the whole window (we cannot see before it).
-- materialized: view
with windowed as (
    select
        athlete_id,
        week_start,
        surface_weeks as window_weeks,
        surface_runs as runs,
        surface_soft_runs as soft_surface_runs,
        surface_treadmill_runs as treadmill_runs
    from int_week_windows
    where has_full_surface_window
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
