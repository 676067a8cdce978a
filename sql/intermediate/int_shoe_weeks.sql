-- int_shoe_weeks: each shoe's use per week and its distance at the end of that week.
-- grain: one row per athlete, shoe and ISO week in which the shoe was used for a run
-- columns:
--   athlete_id, shoe_id, week_start, week_end
--   runs, run_km: runs in this shoe that week and their distance
--   first_run_date: the shoe's first run in the warehouse (Strava keeps no purchase date)
--   km_at_week_end: Strava's total for the shoe minus the runs logged after this week (never
--     below the runs logged up to this week); without a gear row or for a missing gear, the runs
--     logged so far
--   age_days_at_week_end: days from the first run to the week's Sunday
--   name, brand_name, model_name, retired: from the gear table when known
--   missing: Strava answered 404 for the gear (stg_gear); its total is unknown
--   shoe_name: what to call the shoe in messages: 'unknown shoe' when missing, else its name, else
--     brand and model, else its id
-- materialized: table
with shoe_runs as (
    select
        athlete_id,
        shoe_id,
        week_start,
        day,
        distance_km
    from int_runs
    where shoe_id is not null
),

per_week as (
    select
        athlete_id,
        shoe_id,
        week_start,
        count(*) as runs,
        sum(distance_km) as run_km
    from shoe_runs
    group by athlete_id, shoe_id, week_start
),

cumulative as (
    select
        *,
        sum(run_km) over (
            partition by athlete_id, shoe_id order by week_start
            rows between unbounded preceding and current row
        ) as run_km_to_date,
        sum(run_km) over (partition by athlete_id, shoe_id) as run_km_total
    from per_week
),

first_runs as (
    select
        shoe_id,
        min(day) as first_run_date
    from shoe_runs
    group by shoe_id
)

select
    cumulative.athlete_id,
    cumulative.shoe_id,
    cumulative.week_start,
    cumulative.week_start + 6 as week_end,
    cumulative.runs,
    cumulative.run_km,
    first_runs.first_run_date,
    greatest(
        coalesce(stg_gear.distance_km - (cumulative.run_km_total - cumulative.run_km_to_date), 0),
        cumulative.run_km_to_date
    ) as km_at_week_end,
    date_diff('day', first_runs.first_run_date, cumulative.week_start + 6) as age_days_at_week_end,
    stg_gear.name,
    stg_gear.brand_name,
    stg_gear.model_name,
    case
        when coalesce(stg_gear.missing, false) then 'unknown shoe'
        else coalesce(
            stg_gear.name,
            nullif(concat_ws(' ', stg_gear.brand_name, stg_gear.model_name), ''),
            cumulative.shoe_id
        )
    end as shoe_name,
    coalesce(stg_gear.retired, false) as retired,
    coalesce(stg_gear.missing, false) as missing
from cumulative
inner join first_runs on cumulative.shoe_id = first_runs.shoe_id
left join stg_gear on cumulative.shoe_id = stg_gear.gear_id
