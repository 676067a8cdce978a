-- flag_posture_cadence: weeks whose runs averaged a low step rate.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: the week's moving-time-weighted steps per minute (Strava cadence x 2) below
--   cadence_watch_spm (160): watch, suggesting +cadence_suggest_low to +cadence_suggest_high
--   (5-10% in the seed). The message's percentages come from the same parameters (the
--   athlete's override, else the seed), so the email never says a figure the rule did not use.
-- materialized: view
with fired as (
    select
        int_week_activity.athlete_id,
        int_week_activity.week_start,
        int_week_activity.steps_per_min,
        int_week_activity.cadence_runs,
        int_params.cadence_watch_spm,
        round(int_params.cadence_suggest_low * 100, 1) as suggest_low_pct,
        round(int_params.cadence_suggest_high * 100, 1) as suggest_high_pct,
        int_week_activity.steps_per_min * (1 + int_params.cadence_suggest_low) as suggest_low_spm,
        int_week_activity.steps_per_min * (1 + int_params.cadence_suggest_high) as suggest_high_spm
    from int_week_activity
    inner join int_params on int_week_activity.athlete_id = int_params.athlete_id
    where int_week_activity.steps_per_min < int_params.cadence_watch_spm
)

select
    athlete_id,
    week_start,
    'posture.cadence' as rule_id,
    'watch' as severity,
    format(
        'Your runs this week averaged {:.0f} steps per minute. In lab studies, raising cadence by {:g}-{:g}% '
        || '(to about {:.0f}-{:.0f}) lowered the load on knees and hips; the evidence is limited.',
        steps_per_min,
        suggest_low_pct,
        suggest_high_pct,
        suggest_low_spm,
        suggest_high_spm
    ) as message,
    json_object(
        'steps_per_min', round(steps_per_min, 1),
        'runs_with_cadence', cadence_runs,
        'watch_below_spm', cadence_watch_spm,
        'suggested_low_spm', round(suggest_low_spm),
        'suggested_high_spm', round(suggest_high_spm)
    ) as metrics
from fired
