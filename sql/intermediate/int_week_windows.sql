-- int_week_windows: trailing counts over whole weeks ending on each Sunday, one window per rule.
-- grain: one row per athlete per ISO week (as int_week_activity)
-- columns:
--   athlete_id, week_start, week_index
--   <rule>_weeks: the rule's window in whole weeks (ceil(window_days / 7)) and, over it:
--   surface_runs, surface_soft_runs, surface_treadmill_runs (surface.no_soft_surface)
--   unknown_gear_runs, unknown_gear_runs_without_shoe (shoes.unknown_gear)
--   warmup_runs_known, warmup_runs_with_warmup (preparation.warmup)
--   strength_none_runs, strength_none_sessions (strength.no_strength_14d)
--   strength_low_runs, strength_low_sessions (strength.low_frequency)
--   shoe_age_runs_per_week: average runs a week (shoes.age)
-- One pass: all windows share the partition and order, so the weeks are sorted once.
-- materialized: table
with params as (
    select
        athlete_id,
        cast(ceil(surface_window_days / 7) as integer) as surface_weeks,
        cast(ceil(unknown_gear_window_days / 7) as integer) as unknown_gear_weeks,
        cast(ceil(warmup_window_days / 7) as integer) as warmup_weeks,
        cast(ceil(strength_none_window_days / 7) as integer) as strength_none_weeks,
        cast(ceil(strength_low_window_days / 7) as integer) as strength_low_weeks,
        cast(ceil(shoe_age_runs_window_days / 7) as integer) as shoe_age_weeks
    from int_params
),

weeks as (
    select
        int_week_activity.athlete_id,
        int_week_activity.week_start,
        int_week_activity.week_index,
        int_week_activity.runs,
        int_week_activity.soft_surface_runs,
        int_week_activity.treadmill_runs,
        int_week_activity.runs_without_shoe,
        int_week_activity.warmup_known,
        int_week_activity.warmup_runs,
        int_week_activity.strength_sessions,
        params.surface_weeks,
        params.unknown_gear_weeks,
        params.warmup_weeks,
        params.strength_none_weeks,
        params.strength_low_weeks,
        params.shoe_age_weeks
    from int_week_activity
    inner join params on int_week_activity.athlete_id = params.athlete_id
)

select
    athlete_id,
    week_start,
    week_index,
    surface_weeks,
    sum(runs) over surface_window as surface_runs,
    sum(soft_surface_runs) over surface_window as surface_soft_runs,
    sum(treadmill_runs) over surface_window as surface_treadmill_runs,
    unknown_gear_weeks,
    sum(runs) over unknown_gear_window as unknown_gear_runs,
    sum(runs_without_shoe) over unknown_gear_window as unknown_gear_runs_without_shoe,
    warmup_weeks,
    sum(warmup_known) over warmup_window as warmup_runs_known,
    sum(warmup_runs) over warmup_window as warmup_runs_with_warmup,
    strength_none_weeks,
    sum(runs) over strength_none_window as strength_none_runs,
    sum(strength_sessions) over strength_none_window as strength_none_sessions,
    strength_low_weeks,
    sum(runs) over strength_low_window as strength_low_runs,
    sum(strength_sessions) over strength_low_window as strength_low_sessions,
    shoe_age_weeks,
    avg(runs) over shoe_age_window as shoe_age_runs_per_week
from weeks
window
    by_week as (partition by athlete_id order by week_start),
    surface_window as (by_week rows between surface_weeks - 1 preceding and current row),  -- noqa: PRS
    unknown_gear_window as (by_week rows between unknown_gear_weeks - 1 preceding and current row),  -- noqa: PRS
    warmup_window as (by_week rows between warmup_weeks - 1 preceding and current row),  -- noqa: PRS
    strength_none_window as (by_week rows between strength_none_weeks - 1 preceding and current row),  -- noqa: PRS
    strength_low_window as (by_week rows between strength_low_weeks - 1 preceding and current row),  -- noqa: PRS
    shoe_age_window as (by_week rows between shoe_age_weeks - 1 preceding and current row)  -- noqa: PRS
