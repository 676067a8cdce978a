-- flag_distance_weekly_change: weeks well above the previous 4 weeks, shown as information only.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: change_vs_prev4 above change_ratio_info (1.5) or acwr above acwr_info (1.5), once the
--   athlete's history covers the week and the 4 weeks before it (rule_readiness). Always `info`:
--   the evidence for weekly ratios is contested (Buist 2008, Impellizzeri 2020, Frandsen 2025),
--   so it is never worded as a warning.
-- materialized: view
with fired as (
    select
        weekly_load.*,
        int_params.change_ratio_info,
        int_params.acwr_info
    from weekly_load
    inner join int_params on weekly_load.athlete_id = int_params.athlete_id
    inner join rule_readiness
        on
            weekly_load.athlete_id = rule_readiness.athlete_id
            and weekly_load.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'distance.weekly_change'
    where
        rule_readiness.ready
        and weekly_load.prev4_avg_km is not null
        and (
            weekly_load.change_vs_prev4 > int_params.change_ratio_info
            or weekly_load.acwr > int_params.acwr_info
        )
)

select
    athlete_id,
    week_start,
    'distance.weekly_change' as rule_id,
    'info' as severity,
    format(
        'You ran {:.1f} km this week against an average of {:.1f} km over the previous 4 weeks{}. '
        || 'For information only: studies disagree on whether week-to-week changes like this matter.',
        distance_km,
        prev4_avg_km,
        case
            when acwr is not null
                then format(' (acute:chronic load ratio {:.2f})', acwr)
            else ''
        end
    ) as message,
    json_object(
        'distance_km', round(distance_km, 2),
        'prev4_avg_km', round(prev4_avg_km, 2),
        'change_vs_prev4', round(change_vs_prev4, 3),
        'acwr', round(acwr, 3)
    ) as metrics
from fired
