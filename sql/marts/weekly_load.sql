-- weekly_load: running volume and load per ISO week (local time), with the classic load ratios.
-- grain: one row per athlete per ISO week, from the first to the last activity week
--   (weeks without runs included, with zeros)
-- columns:
--   athlete_id, week_start (Monday)
--   runs, distance_km, moving_time_s, longest_run_km, elevation_gain_m: runs of that week
--   run_days: days with at least one run
--   load: sum of daily_load.load over the week
--   prev4_avg_km: average weekly km of the 4 previous weeks (the whole weeks of
--     distance.weekly_change baseline_days, 28; null until they exist)
--   change_vs_prev4: distance_km / prev4_avg_km (1.2 = 20% more than usual)
--   acute_load, chronic_load: EWMA of daily load on the week's Sunday, spans acute_days (7) and
--     chronic_days (28), lambda = 2 / (span + 1) (Williams et al. 2017), over ewma_memory_days
--   acwr: acute_load / chronic_load
--   monotony: mean daily load / sample SD of daily load over the week's 7 days (Foster 1998);
--     null when the SD is 0 (no runs, or identical load every day)
--   strain: load x monotony
with weeks as (
    select * from int_week_activity
),

params as (
    select
        athlete_id,
        2.0 / (acute_days + 1) as lambda_acute,
        2.0 / (chronic_days + 1) as lambda_chronic,
        cast(ceil(ewma_memory_days / 7) as integer) as memory_weeks,
        cast(ceil(change_baseline_days / 7) as integer) as baseline_weeks
    from int_params
),

daily_parts as (
    select
        daily_load.athlete_id,
        daily_load.week_start,
        avg(daily_load.load) as mean_daily_load,
        stddev_samp(daily_load.load) as sd_daily_load,
        count(*) filter (where daily_load.runs > 0) as run_days,
        sum(
            daily_load.load * params.lambda_acute
            * pow(1 - params.lambda_acute, date_diff('day', daily_load.day, daily_load.week_start + 6))
        ) as acute_part,
        sum(
            daily_load.load * params.lambda_chronic
            * pow(1 - params.lambda_chronic, date_diff('day', daily_load.day, daily_load.week_start + 6))
        ) as chronic_part
    from daily_load
    inner join params on daily_load.athlete_id = params.athlete_id
    group by daily_load.athlete_id, daily_load.week_start
),

parts as (
    select
        weeks.athlete_id,
        weeks.week_start,
        daily_parts.acute_part,
        daily_parts.chronic_part,
        pow(1 - params.lambda_acute, 7) as acute_week_decay,
        pow(1 - params.lambda_chronic, 7) as chronic_week_decay,
        params.memory_weeks
    from weeks
    inner join daily_parts
        on weeks.athlete_id = daily_parts.athlete_id and weeks.week_start = daily_parts.week_start
    inner join params on weeks.athlete_id = params.athlete_id
),

recent_parts as (
    select
        athlete_id,
        week_start,
        acute_week_decay,
        chronic_week_decay,
        list(acute_part) over recent as acute_parts,
        list(chronic_part) over recent as chronic_parts
    from parts
    window recent as (
        partition by athlete_id order by week_start
        rows between memory_weeks - 1 preceding and current row  -- noqa: PRS
    )
),

-- EWMA on each Sunday = sum over the recent weeks of (that week's contribution x decay per week
-- ^ weeks ago); the lists hold the contributions, oldest first.
ewma as (
    select
        athlete_id,
        week_start,
        list_sum(
            list_transform(acute_parts, lambda part, i: part * pow(acute_week_decay, len(acute_parts) - i))  -- noqa
        ) as acute_load,
        list_sum(
            list_transform(  -- noqa
                chronic_parts, lambda part, i: part * pow(chronic_week_decay, len(chronic_parts) - i)  -- noqa
            )
        ) as chronic_load
    from recent_parts
),

combined as (
    select
        weeks.athlete_id,
        weeks.week_start,
        cast(weeks.runs as integer) as runs,
        weeks.distance_km,
        cast(weeks.moving_time_s as bigint) as moving_time_s,
        weeks.longest_run_km,
        weeks.elevation_gain_m,
        cast(daily_parts.run_days as integer) as run_days,
        weeks.load,
        case
            when weeks.week_index >= params.baseline_weeks then avg(weeks.distance_km) over previous_weeks
        end as prev4_avg_km,
        ewma.acute_load,
        ewma.chronic_load,
        daily_parts.mean_daily_load / nullif(daily_parts.sd_daily_load, 0) as monotony
    from weeks
    inner join daily_parts
        on weeks.athlete_id = daily_parts.athlete_id and weeks.week_start = daily_parts.week_start
    inner join ewma on weeks.athlete_id = ewma.athlete_id and weeks.week_start = ewma.week_start
    inner join params on weeks.athlete_id = params.athlete_id
    window
        by_week as (partition by weeks.athlete_id order by weeks.week_start),
        previous_weeks as (by_week rows between params.baseline_weeks preceding and 1 preceding)  -- noqa: PRS
)

select
    athlete_id,
    week_start,
    runs,
    distance_km,
    moving_time_s,
    longest_run_km,
    elevation_gain_m,
    run_days,
    load,
    prev4_avg_km,
    distance_km / nullif(prev4_avg_km, 0) as change_vs_prev4,
    acute_load,
    chronic_load,
    acute_load / nullif(chronic_load, 0) as acwr,
    monotony,
    load * monotony as strain
from combined
