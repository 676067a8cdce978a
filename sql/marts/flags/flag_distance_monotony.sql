-- flag_distance_monotony: weeks whose daily load was very uniform (Foster's monotony).
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: weekly_load.monotony above monotony_info (2.0): info, once the athlete's history covers
--   the whole week (rule_readiness: days before the first activity are not rest days we saw).
-- materialized: view
with fired as (
    select weekly_load.*
    from weekly_load
    inner join int_params on weekly_load.athlete_id = int_params.athlete_id
    inner join rule_readiness
        on
            weekly_load.athlete_id = rule_readiness.athlete_id
            and weekly_load.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'distance.monotony'
    where rule_readiness.ready and weekly_load.monotony > int_params.monotony_info
)

select
    athlete_id,
    week_start,
    'distance.monotony' as rule_id,
    'info' as severity,
    format(
        'Your training load was very similar day after day this week ({:d} running days, monotony {:.1f}, '
        || 'strain {:.0f}). Small studies link uniform loading to overreaching; mixing easy days, '
        || 'harder days and rest is the usual advice.',
        run_days,
        monotony,
        strain
    ) as message,
    json_object(
        'run_days', run_days,
        'load', round(load, 1),
        'monotony', round(monotony, 3),
        'strain', round(strain, 1)
    ) as metrics
from fired
