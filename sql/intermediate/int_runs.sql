-- int_runs: the running activities (Run, TrailRun, VirtualRun) with the context each rule needs.
-- grain: one row per run
-- columns: everything in int_activities, plus
--   prev_longest_spike_km: longest run in the spike rule's look-back (default 30 days) before this run
--   prev_longest_big_km: longest run in the big-run look-back (default 28 days) before this run
--   prev_run_start, next_run_start, next_run_id: the athlete's neighbouring runs
--   hours_since_prev_run, hours_to_next_run: gaps in hours between run starts
--   prebreak_longest_km: longest run in the break_prebreak_days (30) up to the previous run
-- The windows run over a narrow projection and are joined back: carrying names and notes
-- through window sorts costs three times as much.
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

narrow as (
    select
        runs.activity_id,
        runs.athlete_id,
        runs.local_start,
        runs.distance_km,
        to_days(cast(params.spike_lookback_days as integer)) as spike_lookback,
        to_days(cast(params.big_run_lookback_days as integer)) as big_run_lookback,
        to_days(cast(params.break_prebreak_days as integer)) as prebreak_lookback
    from runs
    inner join params on runs.athlete_id = params.athlete_id
),

windowed as (
    select
        activity_id,
        max(distance_km) over (
            partition by athlete_id order by local_start
            range between spike_lookback preceding and current row
            exclude current row
        ) as prev_longest_spike_km,
        max(distance_km) over (
            partition by athlete_id order by local_start
            range between big_run_lookback preceding and current row
            exclude current row
        ) as prev_longest_big_km,
        max(distance_km) over (
            partition by athlete_id order by local_start
            range between prebreak_lookback preceding and current row
        ) as longest_recent_km,
        lag(local_start) over by_time as prev_run_start,
        lead(local_start) over by_time as next_run_start,
        lead(activity_id) over by_time as next_run_id,
        athlete_id,
        local_start
    from narrow
    window by_time as (partition by athlete_id order by local_start, activity_id)
),

context as (
    select
        activity_id,
        prev_longest_spike_km,
        prev_longest_big_km,
        prev_run_start,
        next_run_start,
        next_run_id,
        lag(longest_recent_km) over (
            partition by athlete_id order by local_start, activity_id
        ) as prebreak_longest_km
    from windowed
)

select
    runs.*,
    context.prev_longest_spike_km,
    context.prev_longest_big_km,
    context.prev_run_start,
    context.next_run_start,
    context.next_run_id,
    context.prebreak_longest_km,
    date_diff('second', context.prev_run_start, runs.local_start) / 3600.0 as hours_since_prev_run,
    date_diff('second', runs.local_start, context.next_run_start) / 3600.0 as hours_to_next_run
from runs
inner join context on runs.activity_id = context.activity_id
