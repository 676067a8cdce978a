-- int_run_preparation: warm-up and cool-down of each run, from its km splits and from any
--   short activity just before it.
-- grain: one row per run
-- columns:
--   activity_id, athlete_id, day, week_start
--   full_splits: splits of at least warmup_min_split_m metres (null: no splits fetched)
--   first_split_pace_s_per_km, median_split_pace_s_per_km, last_split_pace_s_per_km
--   warmup_by_pace: first km at least warmup_slower_share slower than the median km
--   cooldown_by_pace: last full km at least warmup_slower_share slower than the median km
--   warmup_activity_id: a short activity (<= warmup_pre_activity_max_minutes) that ended at most
--     warmup_pre_activity_gap_minutes before the run started
--   has_warmup: true/false, null when neither splits nor such an activity tell us
-- materialized: table
with runs as (
    select
        activity_id,
        athlete_id,
        day,
        week_start,
        local_start
    from int_runs
),

params as (
    select
        athlete_id,
        warmup_slower_share,
        warmup_min_split_m,
        warmup_pre_activity_gap_minutes,
        warmup_pre_activity_max_minutes
    from int_params
),

full_splits as (
    select stg_splits.*
    from stg_splits
    inner join params on stg_splits.athlete_id = params.athlete_id
    where stg_splits.distance_m >= params.warmup_min_split_m and stg_splits.pace_s_per_km is not null
),

split_summary as (
    select
        activity_id,
        count(*) as full_splits,
        arg_min(pace_s_per_km, split) as first_split_pace_s_per_km,
        median(pace_s_per_km) as median_split_pace_s_per_km,
        arg_max(pace_s_per_km, split) as last_split_pace_s_per_km
    from full_splits
    group by activity_id
),

previous_activity as (
    select
        activity_id,
        lag(activity_id) over by_time as prev_activity_id,
        lag(local_end) over by_time as prev_end,
        lag(elapsed_time_s) over by_time as prev_elapsed_s
    from int_activities
    window by_time as (partition by athlete_id order by local_start, activity_id)
),

judged as (
    select
        runs.activity_id,
        runs.athlete_id,
        runs.day,
        runs.week_start,
        split_summary.full_splits,
        split_summary.first_split_pace_s_per_km,
        split_summary.median_split_pace_s_per_km,
        split_summary.last_split_pace_s_per_km,
        round(split_summary.first_split_pace_s_per_km / split_summary.median_split_pace_s_per_km - 1, 4)
        >= params.warmup_slower_share as warmup_by_pace,
        round(split_summary.last_split_pace_s_per_km / split_summary.median_split_pace_s_per_km - 1, 4)
        >= params.warmup_slower_share as cooldown_by_pace,
        case
            when
                date_diff('second', previous_activity.prev_end, runs.local_start)
                between 0 and params.warmup_pre_activity_gap_minutes * 60
                and previous_activity.prev_elapsed_s <= params.warmup_pre_activity_max_minutes * 60
                then previous_activity.prev_activity_id
        end as warmup_activity_id
    from runs
    inner join params on runs.athlete_id = params.athlete_id
    left join split_summary on runs.activity_id = split_summary.activity_id
    left join previous_activity on runs.activity_id = previous_activity.activity_id
)

select
    *,
    case
        when warmup_activity_id is not null then true
        when full_splits is not null then warmup_by_pace
    end as has_warmup
from judged
