-- flag_strength_low_frequency: weeks whose last 4 weeks averaged under one strength session a week.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: strength sessions over strength_low_window_days (28, whole weeks ending this Sunday) per
--   week below strength_low_min_per_week (1) while the athlete ran in that window: info, once the
--   history covers the window (rule_readiness). Not raised when the 14-day window has no session at all:
--   strength.no_strength_14d (watch) already says so.
-- materialized: view
with windowed as (
    select
        int_week_windows.athlete_id,
        int_week_windows.week_start,
        int_week_windows.strength_low_weeks as window_weeks,
        int_params.strength_low_min_per_week,
        int_week_windows.strength_none_sessions as sessions_14d,
        int_week_windows.strength_low_sessions as sessions_28d,
        int_week_windows.strength_low_runs as runs
    from int_week_windows
    inner join int_params on int_week_windows.athlete_id = int_params.athlete_id
    inner join rule_readiness
        on
            int_week_windows.athlete_id = rule_readiness.athlete_id
            and int_week_windows.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'strength.low_frequency'
    where rule_readiness.ready
)

select
    athlete_id,
    week_start,
    'strength.low_frequency' as rule_id,
    'info' as severity,
    format(
        'You logged {:d} strength, core, yoga or pilates session{} in the last {:d} weeks, fewer than one a week. '
        || 'Strength training went with fewer sports injuries in trials (moderate evidence; for back pain '
        || 'the evidence is limited).',
        cast(sessions_28d as integer),
        case when sessions_28d = 1 then '' else 's' end,
        window_weeks
    ) as message,
    json_object(
        'sessions', sessions_28d,
        'per_week', round(sessions_28d / window_weeks, 2),
        'runs', runs,
        'window_weeks', window_weeks
    ) as metrics
from windowed
where
    runs > 0
    and sessions_14d > 0
    and sessions_28d / window_weeks < strength_low_min_per_week
