-- flag_strength_no_strength_14d: weeks with runs but no strength session in the last 14 days.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: strength_routine.sessions_14d = 0 (strength_none_window_days, whole weeks ending this
--   Sunday) while the athlete ran in that window: watch. Only once the athlete's history covers
--   the whole window (we cannot see before it).
-- materialized: view
with params as (
    select
        athlete_id,
        cast(ceil(strength_none_window_days / 7) as integer) as window_weeks
    from int_params
),

windowed as (
    select
        strength_routine.athlete_id,
        strength_routine.week_start,
        strength_routine.sessions_14d,
        strength_routine.last_session_day,
        strength_routine.days_since_last_session,
        params.window_weeks,
        int_week_activity.week_index,
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
    'strength.no_strength_14d' as rule_id,
    'watch' as severity,
    format(
        'No strength, core, yoga or pilates session on Strava in the last {:d} days{}. Strength training '
        || 'went with fewer sports injuries in trials (moderate evidence; for back pain the evidence is '
        || 'limited). If you do it but do not log it, backstride cannot see it.',
        window_weeks * 7,
        case
            when last_session_day is not null
                then format(' (the last one was {:d} days ago)', days_since_last_session)
            else ''
        end
    ) as message,
    json_object(
        'sessions', sessions_14d,
        'runs', runs,
        'last_session_day', last_session_day,
        'window_days', window_weeks * 7
    ) as metrics
from windowed
where sessions_14d = 0 and runs > 0 and week_index >= window_weeks - 1
