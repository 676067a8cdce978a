-- flag_injury_return_after_break: the first weeks back after two weeks or more without running.
-- grain: one row per athlete per week where the rule fired (the latest return if several)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: injury_signals 'return_after_break' (break_gap_days (14) or more whole days without a
--   run); every week overlapping the break_return_days (28) from the first run back: watch,
--   comparing the longest run since the return with the longest in the 30 days before the break.
--   Only returns in weeks where the athlete's history covers the break and the 30 days before it
--   (rule_readiness, judged on the week of the first run back).
-- materialized: view
with returns as (
    select injury_signals.*
    from injury_signals
    inner join rule_readiness
        on
            injury_signals.athlete_id = rule_readiness.athlete_id
            and injury_signals.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'injury.return_after_break'
    where injury_signals.signal = 'return_after_break' and rule_readiness.ready
),

return_weeks as (
    select
        returns.*,
        cast(unnest(generate_series(
            returns.week_start, cast(date_trunc('week', returns.watch_until) as date), interval 7 day
        )) as date) as flagged_week
    from returns
),

with_longest as (
    select
        return_weeks.athlete_id,
        return_weeks.activity_id,
        return_weeks.day,
        return_weeks.break_days,
        return_weeks.last_run_before_break,
        return_weeks.prebreak_longest_km,
        return_weeks.watch_until,
        return_weeks.flagged_week,
        max(int_runs.distance_km) as longest_since_km,
        count(*) as runs_since
    from return_weeks
    inner join int_runs
        on
            return_weeks.athlete_id = int_runs.athlete_id
            and int_runs.day between return_weeks.day and least(return_weeks.flagged_week + 6, return_weeks.watch_until)
    group by all
),

ranked as (
    select
        *,
        row_number() over (partition by athlete_id, flagged_week order by day desc, activity_id desc) as rank_in_week
    from with_longest
    where flagged_week <= watch_until
)

select
    athlete_id,
    flagged_week as week_start,
    'injury.return_after_break' as rule_id,
    'watch' as severity,
    format(
        'You are back running after {:d} days without a run (back since {}). The first weeks after a break '
        || 'are linked to a higher injury risk in studies: build up gradually. Your longest run since is '
        || '{:.1f} km; before the break it was {:.1f} km.',
        break_days,
        strftime(day, '%A %-d %B'),
        longest_since_km,
        coalesce(prebreak_longest_km, 0)
    ) as message,
    json_object(
        'activity_id', activity_id,
        'return_day', day,
        'break_days', break_days,
        'last_run_before_break', last_run_before_break,
        'longest_since_km', round(longest_since_km, 2),
        'prebreak_longest_km', round(prebreak_longest_km, 2),
        'runs_since', runs_since,
        'watch_until', watch_until
    ) as metrics
from ranked
where rank_in_week = 1
