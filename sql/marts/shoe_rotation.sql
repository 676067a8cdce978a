-- shoe_rotation: per athlete, how many shoes share the running and how many runs have no shoe,
--   over the shoes.rotation window (84 days) up to the build's reference date.
-- grain: one row per athlete with runs in that window
-- columns:
--   athlete_id, as_of, window_days
--   runs: runs in the window; shoes_used: distinct shoes on those runs
--   runs_without_shoe: runs with no gear or gear that is not a shoe
--   share_without_shoe: runs_without_shoe / runs
with context as (
    select as_of from build_context
),

params as (
    select
        athlete_id,
        rotation_window_days
    from int_params
),

windowed as (
    select
        int_runs.athlete_id,
        context.as_of,
        cast(params.rotation_window_days as integer) as window_days,
        int_runs.shoe_id
    from int_runs
    cross join context
    inner join params on int_runs.athlete_id = params.athlete_id
    where
        int_runs.day > context.as_of - cast(params.rotation_window_days as integer)
        and int_runs.day <= context.as_of
)

select
    athlete_id,
    as_of,
    window_days,
    count(*) as runs,
    count(distinct shoe_id) as shoes_used,
    count(*) filter (where shoe_id is null) as runs_without_shoe,
    count(*) filter (where shoe_id is null) / count(*) as share_without_shoe
from windowed
group by athlete_id, as_of, window_days
