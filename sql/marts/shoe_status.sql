-- shoe_status: each shoe's mileage and age as of the build's reference date (build_context.as_of).
-- grain: one row per shoe (gear of type shoe, or gear seen on runs that is not a bike)
-- columns:
--   athlete_id, gear_id, brand_name, model_name
--   name: the shoe's name on Strava; 'unknown shoe' when the gear is missing
--   distance_km: Strava's total for the shoe (includes walks); the logged runs when Strava has none
--     (no gear row, or a missing gear)
--   run_km, runs: runs logged in the warehouse with this shoe
--   first_run_date, last_run_date: first and last logged run in it (Strava keeps no purchase date)
--   age_days: days from the first run to as_of
--   runs_12w: runs in it during the shoes.age runs window (84 days) up to as_of
--   retired, is_primary: as set by the athlete on Strava (a retired shoe gets no mileage or age
--     warning)
--   watch_km, warning_km: the shoes.mileage thresholds that apply to this athlete
--   status: retired | unknown (missing: Strava answered 404, its total is unknown, no mileage or
--     age warning) | warning | watch | ok
--   missing: Strava answered 404 for the gear id (stg_gear)
with context as (
    select as_of from build_context
),

shoes as (
    select * from stg_gear
    where gear_type = 'shoe' or gear_type is null
),

params as (
    select
        athlete_id,
        shoe_watch_km,
        shoe_warning_km,
        shoe_age_runs_window_days
    from int_params
),

used as (
    select
        int_runs.athlete_id,
        int_runs.shoe_id,
        count(*) as runs,
        sum(int_runs.distance_km) as run_km,
        min(int_runs.day) as first_run_date,
        max(int_runs.day) as last_run_date,
        count(*) filter (
            where int_runs.day > context.as_of - cast(params.shoe_age_runs_window_days as integer)
            and int_runs.day <= context.as_of
        ) as runs_12w
    from int_runs
    cross join context
    inner join params on int_runs.athlete_id = params.athlete_id
    where int_runs.shoe_id is not null
    group by int_runs.athlete_id, int_runs.shoe_id
),

combined as (
    select
        coalesce(shoes.athlete_id, used.athlete_id) as athlete_id,
        coalesce(shoes.gear_id, used.shoe_id) as gear_id,
        case when coalesce(shoes.missing, false) then 'unknown shoe' else shoes.name end as name,
        shoes.brand_name,
        shoes.model_name,
        coalesce(shoes.distance_km, used.run_km) as distance_km,
        coalesce(used.run_km, 0) as run_km,
        coalesce(used.runs, 0) as runs,
        used.first_run_date,
        used.last_run_date,
        coalesce(used.runs_12w, 0) as runs_12w,
        coalesce(shoes.retired, false) as retired,
        coalesce(shoes.is_primary, false) as is_primary,
        coalesce(shoes.missing, false) as missing
    from shoes
    full outer join used on shoes.gear_id = used.shoe_id
)

select
    combined.athlete_id,
    combined.gear_id,
    combined.name,
    combined.brand_name,
    combined.model_name,
    combined.distance_km,
    combined.run_km,
    combined.runs,
    combined.first_run_date,
    combined.last_run_date,
    date_diff('day', combined.first_run_date, context.as_of) as age_days,
    combined.runs_12w,
    combined.retired,
    combined.is_primary,
    params.shoe_watch_km as watch_km,
    params.shoe_warning_km as warning_km,
    case
        when combined.retired then 'retired'
        when combined.missing then 'unknown'
        when combined.distance_km >= params.shoe_warning_km then 'warning'
        when combined.distance_km >= params.shoe_watch_km then 'watch'
        else 'ok'
    end as status,
    combined.missing
from combined
cross join context
left join params on combined.athlete_id = params.athlete_id
