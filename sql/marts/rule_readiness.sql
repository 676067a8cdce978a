-- rule_readiness: whether each window rule has the history its window needs, week by week.
-- grain: one row per athlete, ISO week (every week of int_weeks) and window rule
-- columns:
--   athlete_id BIGINT, week_start DATE (the Monday)
--   rule_id VARCHAR: a rule that compares with a window before the week
--   factor VARCHAR: the rule's factor (rule_thresholds)
--   needed_days INTEGER: days of history, up to the week's Sunday, the rule needs so that every
--     comparison made in the week has its whole window inside the history (from the rule's
--     parameters in int_params; "+ 7" is the week itself):
--     distance.single_run_spike: lookback_days (30) before a Monday run, + 7
--     distance.weekly_change: the whole weeks of baseline_days (28) before the week, + 7
--     distance.monotony: window_days (7): the week's daily loads
--     injury.return_after_break: prebreak_days (30) up to the last run before the break, that
--       run's day, gap_days (14) without a run, + 7
--     rules about an absence over whole weeks ending on the Sunday: those weeks (ceil(days / 7)
--       x 7): shoes.rotation window_days (84), surface.no_soft_surface window_days (28),
--       strength.no_strength_14d window_days (14), strength.low_frequency window_days (28)
--   history_days INTEGER: days from the athlete's first activity to the week's Sunday (both
--     counted; int_weeks)
--   ready BOOLEAN: history_days >= needed_days; the rule's flags stay silent until then
--   ready_from DATE: the Monday of the athlete's first week in which the rule is ready (may lie
--     after the last week with data)
with params as (
    select
        athlete_id,
        cast(spike_lookback_days as integer) + 7 as spike_days,
        cast(ceil(change_baseline_days / 7) as integer) * 7 + 7 as change_days,
        cast(monotony_window_days as integer) as monotony_days,
        cast(break_prebreak_days as integer) + 1 + cast(break_gap_days as integer) + 7 as break_days,
        cast(ceil(rotation_window_days / 7) as integer) * 7 as rotation_days,
        cast(ceil(surface_window_days / 7) as integer) * 7 as surface_days,
        cast(ceil(strength_none_window_days / 7) as integer) * 7 as strength_none_days,
        cast(ceil(strength_low_window_days / 7) as integer) * 7 as strength_low_days
    from int_params
),

needs as (
    select
        athlete_id,
        'distance.single_run_spike' as rule_id,
        spike_days as needed_days
    from params
    union all
    select
        athlete_id,
        'distance.weekly_change' as rule_id,
        change_days as needed_days
    from params
    union all
    select
        athlete_id,
        'distance.monotony' as rule_id,
        monotony_days as needed_days
    from params
    union all
    select
        athlete_id,
        'injury.return_after_break' as rule_id,
        break_days as needed_days
    from params
    union all
    select
        athlete_id,
        'shoes.rotation' as rule_id,
        rotation_days as needed_days
    from params
    union all
    select
        athlete_id,
        'surface.no_soft_surface' as rule_id,
        surface_days as needed_days
    from params
    union all
    select
        athlete_id,
        'strength.no_strength_14d' as rule_id,
        strength_none_days as needed_days
    from params
    union all
    select
        athlete_id,
        'strength.low_frequency' as rule_id,
        strength_low_days as needed_days
    from params
),

rules as (
    select distinct
        rule_id,
        factor
    from rule_thresholds
)

select
    cast(int_weeks.athlete_id as bigint) as athlete_id,
    int_weeks.week_start,
    needs.rule_id,
    rules.factor,
    needs.needed_days,
    int_weeks.history_days,
    int_weeks.history_days >= needs.needed_days as ready,
    cast(date_trunc('week', int_weeks.first_activity_day + needs.needed_days - 1) as date) as ready_from
from int_weeks
inner join needs on int_weeks.athlete_id = needs.athlete_id
inner join rules on needs.rule_id = rules.rule_id
