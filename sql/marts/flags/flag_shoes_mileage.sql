-- flag_shoes_mileage: weeks in which the athlete ran in a shoe past the mileage thresholds.
-- grain: one row per athlete per week where the rule fired (the most worn shoe run in that week)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: the shoe's distance at the end of the week (int_shoe_weeks.km_at_week_end) at or above
--   shoe_watch_km (600): watch; at or above shoe_warning_km (800): warning. Retired shoes are left
--   out, and so are missing ones (Strava answered 404: their total is unknown).
-- materialized: view
with fired as (
    select
        int_shoe_weeks.*,
        int_params.shoe_watch_km,
        int_params.shoe_warning_km,
        row_number() over (
            partition by int_shoe_weeks.athlete_id, int_shoe_weeks.week_start
            order by int_shoe_weeks.km_at_week_end desc, int_shoe_weeks.shoe_id asc
        ) as rank_in_week
    from int_shoe_weeks
    inner join int_params on int_shoe_weeks.athlete_id = int_params.athlete_id
    where
        not int_shoe_weeks.retired
        and not int_shoe_weeks.missing
        and int_shoe_weeks.km_at_week_end >= int_params.shoe_watch_km
)

select
    athlete_id,
    week_start,
    'shoes.mileage' as rule_id,
    case when km_at_week_end >= shoe_warning_km then 'warning' else 'watch' end as severity,
    format(
        'Your shoes "{}" have about {:.0f} km on them. Runners commonly replace shoes somewhere between '
        || '480 and 800 km (a rule of thumb; cushioning wears with use). Strava''s total includes walks in them.',
        shoe_name,
        km_at_week_end
    ) as message,
    json_object(
        'gear_id', shoe_id,
        'shoe', shoe_name,
        'distance_km', round(km_at_week_end, 1),
        'watch_km', shoe_watch_km,
        'warning_km', shoe_warning_km
    ) as metrics
from fired
where rank_in_week = 1
