-- flag_shoes_rotation: weeks in which all runs of the last 12 weeks were in a single pair.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: distinct shoes on runs in the rotation_window_days (84, whole weeks ending this Sunday)
--   between 1 and rotation_max_shoes_info (1): info. Runs without a shoe are not counted here.
-- materialized: view
with params as (
    select
        athlete_id,
        rotation_max_shoes_info,
        cast(ceil(rotation_window_days / 7) as integer) as window_weeks
    from int_params
),

spread as (
    select
        int_shoe_weeks.athlete_id,
        int_shoe_weeks.shoe_id,
        int_shoe_weeks.runs,
        coalesce(
            int_shoe_weeks.name,
            nullif(concat_ws(' ', int_shoe_weeks.brand_name, int_shoe_weeks.model_name), ''),
            int_shoe_weeks.shoe_id
        ) as shoe_name,
        int_shoe_weeks.week_start + cast(7 * unnest(range(params.window_weeks)) as integer) as counted_in_week
    from int_shoe_weeks
    inner join params on int_shoe_weeks.athlete_id = params.athlete_id
),

per_week as (
    select
        spread.athlete_id,
        spread.counted_in_week as week_start,
        count(distinct spread.shoe_id) as shoes_used,
        sum(spread.runs) as runs_with_shoe,
        min(spread.shoe_name) as shoe_name
    from spread
    inner join int_weeks
        on spread.athlete_id = int_weeks.athlete_id and spread.counted_in_week = int_weeks.week_start
    group by spread.athlete_id, spread.counted_in_week
),

fired as (
    select
        per_week.*,
        params.window_weeks
    from per_week
    inner join params on per_week.athlete_id = params.athlete_id
    where per_week.shoes_used <= params.rotation_max_shoes_info
)

select
    athlete_id,
    week_start,
    'shoes.rotation' as rule_id,
    'info' as severity,
    format(
        'All your runs with shoes logged in the last {:d} weeks were in one pair ("{}"). In a study of '
        || '264 runners, those who alternated several pairs had fewer injuries; the evidence is limited.',
        window_weeks,
        shoe_name
    ) as message,
    json_object(
        'shoes_used', shoes_used,
        'shoe', shoe_name,
        'runs_with_shoe', runs_with_shoe,
        'window_weeks', window_weeks
    ) as metrics
from fired
