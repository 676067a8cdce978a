-- flag_shoes_unknown_gear: weeks in which many recent runs had no running shoe on Strava.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: runs without a shoe (no gear, or gear that is not a shoe) / runs, over the
--   unknown_gear_window_days (28, whole weeks ending this Sunday), above unknown_gear_share_info
--   (0.25): info.
-- materialized: view
with windowed as (
    select
        int_week_windows.athlete_id,
        int_week_windows.week_start,
        int_week_windows.unknown_gear_weeks as window_weeks,
        int_params.unknown_gear_share_info,
        int_week_windows.unknown_gear_runs as runs,
        int_week_windows.unknown_gear_runs_without_shoe as runs_without_shoe
    from int_week_windows
    inner join int_params on int_week_windows.athlete_id = int_params.athlete_id
),

fired as (
    select
        *,
        runs_without_shoe / runs as share
    from windowed
    where runs > 0 and runs_without_shoe / runs > unknown_gear_share_info
)

select
    athlete_id,
    week_start,
    'shoes.unknown_gear' as rule_id,
    'info' as severity,
    format(
        '{:d} of your {:d} runs in the last {:d} weeks ({:.0f}%) have no running shoe recorded on Strava. '
        || 'Adding your shoes lets backstride follow their mileage and age.',
        cast(runs_without_shoe as integer),
        cast(runs as integer),
        window_weeks,
        share * 100
    ) as message,
    json_object(
        'runs', runs,
        'runs_without_shoe', runs_without_shoe,
        'share', round(share, 3),
        'window_weeks', window_weeks
    ) as metrics
from fired
