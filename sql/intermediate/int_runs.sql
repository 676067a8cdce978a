-- int_runs: the running activities (Run, TrailRun, VirtualRun) with the context each rule needs.
-- grain: one row per run
-- columns: everything in int_activities, plus
--   prev_longest_spike_km: longest run in the spike rule's look-back (default 30 days) before this run
--   prev_longest_big_km: longest run in the big-run look-back (default 28 days) before this run
--   prev_run_start, next_run_start, next_run_id: the athlete's neighbouring runs
--   hours_since_prev_run, hours_to_next_run: gaps in hours between run starts
--   prebreak_longest_km: longest run in the break_prebreak_days (30) up to the previous run
-- materialized: table
with runs as (
    select * from int_activities
    where is_run
),

params as (
    select
        athlete_id,
        spike_lookback_days,
        big_run_lookback_days,
        break_prebreak_days
    from int_params
),

with_context as (
    select
        runs.*,
        max(runs.distance_km) over (
            partition by runs.athlete_id order by runs.local_start
            range between to_days(cast(params.spike_lookback_days as integer)) preceding and current row
            exclude current row
        ) as prev_longest_spike_km,
        max(runs.distance_km) over (
            partition by runs.athlete_id order by runs.local_start
            range between to_days(cast(params.big_run_lookback_days as integer)) preceding and current row
            exclude current row
        ) as prev_longest_big_km,
        max(runs.distance_km) over (
            partition by runs.athlete_id order by runs.local_start
            range between to_days(cast(params.break_prebreak_days as integer)) preceding and current row
        ) as longest_recent_km,
        lag(runs.local_start) over by_time as prev_run_start,
        lead(runs.local_start) over by_time as next_run_start,
        lead(runs.activity_id) over by_time as next_run_id
    from runs
    inner join params on runs.athlete_id = params.athlete_id
    window by_time as (partition by runs.athlete_id order by runs.local_start, runs.activity_id)
)

select
    * exclude (longest_recent_km),
    lag(longest_recent_km) over (partition by athlete_id order by local_start, activity_id) as prebreak_longest_km,
    date_diff('second', prev_run_start, local_start) / 3600.0 as hours_since_prev_run,
    date_diff('second', local_start, next_run_start) / 3600.0 as hours_to_next_run
from with_context
