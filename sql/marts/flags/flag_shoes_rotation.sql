-- flag_shoes_rotation: weeks in which all runs of the last 12 weeks were in a single pair.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: distinct shoes on runs in the rotation_window_days (84, whole weeks ending this Sunday)
--   between 1 and rotation_max_shoes_info (1): info, once the athlete's history covers the whole
--   window (rule_readiness). Runs without a shoe are not counted here.
-- How: a shoe used in week w counts in weeks w .. w + window - 1, or until its next use starts a
--   new span; so the shoes in use are a running sum of +1/-1 events over the weeks (no
--   count-distinct over sliding windows, which is slow at club scale).
-- materialized: view
with params as (
    select
        athlete_id,
        rotation_max_shoes_info,
        cast(ceil(rotation_window_days / 7) as integer) as window_weeks
    from int_params
),

uses as (
    select
        int_shoe_weeks.athlete_id,
        int_shoe_weeks.week_start,
        least(
            int_shoe_weeks.week_start + 7 * params.window_weeks,
            coalesce(
                lead(int_shoe_weeks.week_start) over (
                    partition by int_shoe_weeks.athlete_id, int_shoe_weeks.shoe_id order by int_shoe_weeks.week_start
                ),
                int_shoe_weeks.week_start + 7 * params.window_weeks
            )
        ) as span_end
    from int_shoe_weeks
    inner join params on int_shoe_weeks.athlete_id = params.athlete_id
),

events as (
    select
        athlete_id,
        week_start,
        sum(delta) as delta
    from (
        select
            athlete_id,
            week_start,
            1 as delta
        from uses
        union all
        select
            athlete_id,
            span_end as week_start,
            -1 as delta
        from uses
    ) as starts_and_ends
    group by athlete_id, week_start
),

per_week as (
    select
        int_weeks.athlete_id,
        int_weeks.week_start,
        sum(coalesce(events.delta, 0)) over (
            partition by int_weeks.athlete_id order by int_weeks.week_start
            rows between unbounded preceding and current row
        ) as shoes_used
    from int_weeks
    left join events on int_weeks.athlete_id = events.athlete_id and int_weeks.week_start = events.week_start
),

fired as (
    select
        per_week.athlete_id,
        per_week.week_start,
        per_week.shoes_used,
        params.window_weeks
    from per_week
    inner join params on per_week.athlete_id = params.athlete_id
    inner join rule_readiness
        on
            per_week.athlete_id = rule_readiness.athlete_id
            and per_week.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'shoes.rotation'
    where
        rule_readiness.ready
        and per_week.shoes_used between 1 and params.rotation_max_shoes_info
),

named as (
    select
        fired.*,
        last_shoe.shoe_name
    from fired
    asof left join int_shoe_weeks as last_shoe
        on fired.athlete_id = last_shoe.athlete_id and fired.week_start >= last_shoe.week_start
)

select
    athlete_id,
    week_start,
    'shoes.rotation' as rule_id,
    'info' as severity,
    format(
        'All your runs with shoes logged in the last {:d} weeks were in {}. In a study of 264 runners, '
        || 'those who alternated several pairs had fewer injuries; the evidence is limited.',
        window_weeks,
        case when shoes_used = 1 then format('one pair ("{}")', shoe_name) else format('{:d} pairs', shoes_used) end
    ) as message,
    json_object(
        'shoes_used', shoes_used,
        'shoe', shoe_name,
        'window_weeks', window_weeks
    ) as metrics
from named
