-- risk_flags: the contract emails and users rely on: every training pattern a rule found.
-- grain: one row per athlete, ISO week (local time) and rule that fired
-- columns:
--   athlete_id BIGINT, week_start DATE (the Monday)
--   factor: shoes | posture | surface | distance | preparation | strength | injury
--   rule_id: e.g. distance.single_run_spike (the rule's flag model is flags/flag_<rule>.sql)
--   severity: info | watch | warning
--   evidence: strong | moderate | limited | rule_of_thumb (the rule's grade in rule_thresholds)
--   message: plain words with the athlete's own numbers: a pattern linked to risk, not a diagnosis
--   metrics: JSON of the values behind the message
with fired as (
    select * from flag_distance_single_run_spike
    union all by name
    select * from flag_distance_weekly_change
    union all by name
    select * from flag_distance_recovery_after_big_run
    union all by name
    select * from flag_distance_monotony
    union all by name
    select * from flag_shoes_mileage
    union all by name
    select * from flag_shoes_age
    union all by name
    select * from flag_shoes_rotation
    union all by name
    select * from flag_shoes_unknown_gear
    union all by name
    select * from flag_posture_cadence
    union all by name
    select * from flag_posture_form_fading
    union all by name
    select * from flag_surface_no_soft_surface
    union all by name
    select * from flag_preparation_warmup
    union all by name
    select * from flag_strength_no_strength_14d
    union all by name
    select * from flag_strength_low_frequency
    union all by name
    select * from flag_injury_pain_notes
    union all by name
    select * from flag_injury_return_after_break
),

rules as (
    select distinct
        rule_id,
        factor,
        evidence
    from rule_thresholds
)

select
    cast(fired.athlete_id as bigint) as athlete_id,
    cast(fired.week_start as date) as week_start,
    rules.factor,
    fired.rule_id,
    fired.severity,
    rules.evidence,
    fired.message,
    fired.metrics
from fired
inner join rules on fired.rule_id = rules.rule_id
