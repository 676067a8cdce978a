-- flag_distance_recovery_after_big_run: weeks where a run followed a big run within 48 hours.
-- grain: one row per athlete per week of the too-soon run (the shortest rest that week)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: from `recovery`: a big run (longer than every run in the previous 28 days, judged once
--   the history covers those days, or at least 90 moving minutes) followed by a run less than
--   big_run_min_rest_hours (48) later: watch.
--   The flag lands in the week of the follow-up run, the moment the pattern happened.
-- materialized: view
with fired as (
    select
        recovery.*,
        row_number() over (
            partition by recovery.athlete_id, recovery.next_run_week_start
            order by recovery.hours_to_next_run, recovery.activity_id
        ) as rank_in_week
    from recovery
    where recovery.too_soon
)

select
    athlete_id,
    next_run_week_start as week_start,
    'distance.recovery_after_big_run' as rule_id,
    'watch' as severity,
    format(
        'You ran again {:.0f} hours after your big run of {:.1f} km on {}. A common rule of thumb '
        || 'is to allow up to two days after a big run; walking, swimming or cycling keep you moving meanwhile.',
        hours_to_next_run,
        distance_km,
        strftime(day, '%A %-d %B')
    ) as message,
    json_object(
        'activity_id', activity_id,
        'day', day,
        'distance_km', round(distance_km, 2),
        'moving_time_s', moving_time_s,
        'next_run_id', next_run_id,
        'hours_to_next_run', hours_to_next_run
    ) as metrics
from fired
where rank_in_week = 1
