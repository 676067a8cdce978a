-- flag_strength_low_frequency: weeks whose last 4 weeks averaged under one strength session a week.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: strength_routine.sessions_28d / weeks in strength_low_window_days (28) below
--   strength_low_min_per_week (1) while the athlete ran in that window: info, once the history covers the window. Not raised when
--   the 14-day window has no session at all: strength.no_strength_14d (watch) already says so.
-- materialized: view
with params as (
    select
        athlete_id,
        strength_low_min_per_week,
        cast(ceil(strength_low_window_days / 7) as integer) as window_weeks
    from int_params
),

windowed as (
    select
        strength_routine.athlete_id,
        strength_routine.week_start,
        strength_routine.sessions_14d,
        strength_routine.sessions_28d,
        params.window_weeks,
        int_week_activity.week_index,
        params.strength_low_min_per_week,
        sum(int_week_activity.runs) over (
            partition by int_week_activity.athlete_id order by int_week_activity.week_start
            rows between params.window_weeks - 1 preceding and current row  -- noqa: PRS
        ) as runs
    from strength_routine
    inner join params on strength_routine.athlete_id = params.athlete_id
    inner join int_week_activity
        on
            strength_routine.athlete_id = int_week_activity.athlete_id
            and strength_routine.week_start = int_week_activity.week_start
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
    and week_index >= window_weeks - 1
    and sessions_14d > 0
    and sessions_28d / window_weeks < strength_low_min_per_week
