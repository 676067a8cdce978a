-- int_run_context: each run's look-back windows and neighbours, on a narrow projection.
-- grain: one row per run
-- columns:
--   activity_id
--   prev_longest_spike_km: longest run in the spike rule's look-back (default 30 days) before this run
--   prev_longest_big_km: longest run in the big-run look-back (default 28 days) before this run
--   prev_run_start, next_run_start, next_run_id: the athlete's neighbouring runs
--   prebreak_longest_km: longest run in the break_prebreak_days (30) up to the previous run
-- Kept apart from int_runs: window sorts carrying names and notes cost several times as much.
-- materialized: table
with params as (
    select
        athlete_id,
        spike_lookback_days,
        big_run_lookback_days,
        break_prebreak_days
    from int_params
),

narrow as (
    select
        int_activities.activity_id,
        int_activities.athlete_id,
        int_activities.local_start,
        int_activities.distance_km,
        to_days(cast(params.spike_lookback_days as integer)) as spike_lookback,
        to_days(cast(params.big_run_lookback_days as integer)) as big_run_lookback,
        to_days(cast(params.break_prebreak_days as integer)) as prebreak_lookback
    from int_activities
    inner join params on int_activities.athlete_id = params.athlete_id
    where int_activities.is_run
),

windowed as (
    select
        activity_id,
        max(distance_km) over (
            partition by athlete_id order by local_start
            range between spike_lookback preceding and current row  -- noqa: PRS
            exclude current row
        ) as prev_longest_spike_km,
        max(distance_km) over (
            partition by athlete_id order by local_start
            range between big_run_lookback preceding and current row  -- noqa: PRS
            exclude current row
        ) as prev_longest_big_km,
        max(distance_km) over (
            partition by athlete_id order by local_start
            range between prebreak_lookback preceding and current row  -- noqa: PRS
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

select * from context
