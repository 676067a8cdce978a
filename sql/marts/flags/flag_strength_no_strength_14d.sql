-- flag_strength_no_strength_14d: weeks with runs but no strength session in the last 14 days.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: no strength session in the strength_none_window_days (14, whole weeks ending this
--   Sunday) while the athlete ran in that window: watch. Only once the athlete's history covers
--   the whole window (rule_readiness: we cannot see before it).
-- materialized: view
with windowed as (
    select
        int_week_windows.athlete_id,
        int_week_windows.week_start,
        int_week_windows.strength_none_weeks as window_weeks,
        int_week_windows.strength_none_sessions as sessions_14d,
        int_week_windows.strength_none_runs as runs,
        strength_routine.last_session_day,
        strength_routine.days_since_last_session
    from int_week_windows
    inner join strength_routine
        on
            int_week_windows.athlete_id = strength_routine.athlete_id
            and int_week_windows.week_start = strength_routine.week_start
    inner join rule_readiness
        on
            int_week_windows.athlete_id = rule_readiness.athlete_id
            and int_week_windows.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'strength.no_strength_14d'
    where rule_readiness.ready
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
where sessions_14d = 0 and runs > 0
