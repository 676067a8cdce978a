-- flag_distance_single_run_spike: weeks with a run much longer than any run in the previous 30 days.
-- grain: one row per athlete per week where the rule fired (the week's biggest spike)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: ratio = run km / longest run km in the spike_lookback_days before it. Above watch_ratio
--   (1.10): watch; above warning_ratio (1.30): warning; above strong_ratio (2.0): warning, worded
--   as the largest band. Runs with no run in the look-back are not compared (see injury signals),
--   and weeks in which the athlete's history does not yet cover the look-back stay silent
--   (rule_readiness).
-- materialized: view
with params as (
    select * from int_params
),

ratios as (
    select
        int_runs.athlete_id,
        int_runs.week_start,
        int_runs.activity_id,
        int_runs.day,
        int_runs.distance_km,
        int_runs.prev_longest_spike_km,
        round(int_runs.distance_km / int_runs.prev_longest_spike_km, 4) as ratio
    from int_runs
    inner join rule_readiness
        on
            int_runs.athlete_id = rule_readiness.athlete_id
            and int_runs.week_start = rule_readiness.week_start
            and rule_readiness.rule_id = 'distance.single_run_spike'
    where int_runs.prev_longest_spike_km > 0 and rule_readiness.ready
),

fired as (
    select
        ratios.*,
        params.spike_lookback_days,
        params.spike_warning_ratio,
        params.spike_strong_ratio,
        case
            when ratios.ratio > params.spike_strong_ratio then params.spike_rate_ratio_high
            when ratios.ratio > params.spike_warning_ratio then params.spike_rate_ratio_mid
            else params.spike_rate_ratio_low
        end as rate_ratio,
        row_number() over (
            partition by ratios.athlete_id, ratios.week_start order by ratios.ratio desc, ratios.activity_id asc
        ) as rank_in_week
    from ratios
    inner join params on ratios.athlete_id = params.athlete_id
    where ratios.ratio > params.spike_watch_ratio
)

select
    athlete_id,
    week_start,
    'distance.single_run_spike' as rule_id,
    case when ratio > spike_warning_ratio then 'warning' else 'watch' end as severity,
    format(
        'Your {:.1f} km run on {} was {:.0f}% longer than your longest run in the previous {:d} days '
        || '({:.1f} km). In a study of 5,200 runners, spikes {} went with about {:.1f} times the injury rate.',
        distance_km,
        strftime(day, '%A %-d %B'),
        (ratio - 1) * 100,
        cast(spike_lookback_days as integer),
        prev_longest_spike_km,
        case when ratio > spike_strong_ratio then 'of more than double' else 'like this' end,
        rate_ratio
    ) as message,
    json_object(
        'activity_id', activity_id,
        'day', day,
        'distance_km', round(distance_km, 2),
        'previous_longest_km', round(prev_longest_spike_km, 2),
        'ratio', ratio,
        'lookback_days', spike_lookback_days,
        'study_rate_ratio', rate_ratio
    ) as metrics
from fired
where rank_in_week = 1
