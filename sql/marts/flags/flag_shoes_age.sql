-- flag_shoes_age: weeks in which a frequent runner ran in a shoe first used over a year before.
-- grain: one row per athlete per week where the rule fired (the oldest shoe run in that week)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: days from the shoe's first logged run to the week's Sunday above shoe_age_watch_days
--   (365): watch; above shoe_age_warning_days (730): warning; only when the athlete averaged at
--   least shoe_age_min_runs_per_week (3) runs a week over the shoe_age_runs_window_days (84).
--   Retired shoes are left out, and so are missing ones (Strava answered 404 for the gear).
-- materialized: view
with params as (
    select
        athlete_id,
        shoe_age_watch_days,
        shoe_age_warning_days,
        shoe_age_min_runs_per_week
    from int_params
),

frequency as (
    select
        athlete_id,
        week_start,
        shoe_age_runs_per_week as runs_per_week
    from int_week_windows
),

fired as (
    select
        int_shoe_weeks.*,
        frequency.runs_per_week,
        params.shoe_age_warning_days,
        row_number() over (
            partition by int_shoe_weeks.athlete_id, int_shoe_weeks.week_start
            order by int_shoe_weeks.age_days_at_week_end desc, int_shoe_weeks.shoe_id asc
        ) as rank_in_week
    from int_shoe_weeks
    inner join params on int_shoe_weeks.athlete_id = params.athlete_id
    inner join frequency
        on int_shoe_weeks.athlete_id = frequency.athlete_id and int_shoe_weeks.week_start = frequency.week_start
    where
        not int_shoe_weeks.retired
        and not int_shoe_weeks.missing
        and int_shoe_weeks.age_days_at_week_end > params.shoe_age_watch_days
        and frequency.runs_per_week >= params.shoe_age_min_runs_per_week
)

select
    athlete_id,
    week_start,
    'shoes.age' as rule_id,
    case when age_days_at_week_end > shoe_age_warning_days then 'warning' else 'watch' end as severity,
    format(
        'You have been running in "{}" since {} (about {:.1f} years), at {:.1f} runs a week. '
        || 'A frequent runner''s pair is commonly said to last 1-2 years (a rule of thumb).',
        shoe_name,
        strftime(first_run_date, '%-d %B %Y'),
        age_days_at_week_end / 365.25,
        runs_per_week
    ) as message,
    json_object(
        'gear_id', shoe_id,
        'shoe', shoe_name,
        'first_run_date', first_run_date,
        'age_days', age_days_at_week_end,
        'runs_per_week', round(runs_per_week, 2)
    ) as metrics
from fired
where rank_in_week = 1
