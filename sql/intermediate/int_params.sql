-- int_params: every rule parameter for every athlete, overrides applied, one column each.
-- grain: one row per athlete
-- columns: one per (rule_id, param) of the rule_thresholds seed, named <rule short name>_<param>;
--   the value is the athlete's override from rule_threshold_overrides when present, else the seed's.
--   See docs/sql.md for the mapping. Models read thresholds only from here.
-- materialized: table
with athletes_seen as (
    select athlete_id from stg_athletes
    union
    select athlete_id from stg_activities
),

effective as (
    select
        athletes_seen.athlete_id,
        rule_thresholds.rule_id || '.' || rule_thresholds.param as key,
        coalesce(rule_threshold_overrides.value, rule_thresholds.value) as value
    from athletes_seen
    cross join rule_thresholds
    left join rule_threshold_overrides
        on
            athletes_seen.athlete_id = rule_threshold_overrides.athlete_id
            and rule_thresholds.rule_id = rule_threshold_overrides.rule_id
            and rule_thresholds.param = rule_threshold_overrides.param
),

pivoted as (
    select
        athlete_id,
        max(value) filter (where key = 'load.hr_reference_bpm') as hr_reference_bpm,
        max(value) filter (where key = 'load.acute_days') as acute_days,
        max(value) filter (where key = 'load.chronic_days') as chronic_days,
        max(value) filter (where key = 'load.ewma_memory_days') as ewma_memory_days,
        max(value) filter (where key = 'distance.single_run_spike.lookback_days') as spike_lookback_days,
        max(value) filter (where key = 'distance.single_run_spike.watch_ratio') as spike_watch_ratio,
        max(value) filter (where key = 'distance.single_run_spike.warning_ratio') as spike_warning_ratio,
        max(value) filter (where key = 'distance.single_run_spike.strong_ratio') as spike_strong_ratio,
        max(value) filter (where key = 'distance.single_run_spike.rate_ratio_low') as spike_rate_ratio_low,
        max(value) filter (where key = 'distance.single_run_spike.rate_ratio_mid') as spike_rate_ratio_mid,
        max(value) filter (where key = 'distance.single_run_spike.rate_ratio_high') as spike_rate_ratio_high,
        max(value) filter (where key = 'distance.weekly_change.change_ratio_info') as change_ratio_info,
        max(value) filter (where key = 'distance.weekly_change.acwr_info') as acwr_info,
        max(value) filter (where key = 'distance.weekly_change.baseline_days') as change_baseline_days,
        max(value) filter (where key = 'distance.recovery_after_big_run.lookback_days') as big_run_lookback_days,
        max(value) filter (where key = 'distance.recovery_after_big_run.big_run_minutes') as big_run_minutes,
        max(value) filter (where key = 'distance.recovery_after_big_run.min_rest_hours') as big_run_min_rest_hours,
        max(value) filter (where key = 'distance.monotony.monotony_info') as monotony_info,
        max(value) filter (where key = 'distance.monotony.window_days') as monotony_window_days,
        max(value) filter (where key = 'shoes.mileage.watch_km') as shoe_watch_km,
        max(value) filter (where key = 'shoes.mileage.warning_km') as shoe_warning_km,
        max(value) filter (where key = 'shoes.age.watch_days') as shoe_age_watch_days,
        max(value) filter (where key = 'shoes.age.warning_days') as shoe_age_warning_days,
        max(value) filter (where key = 'shoes.age.min_runs_per_week') as shoe_age_min_runs_per_week,
        max(value) filter (where key = 'shoes.age.runs_window_days') as shoe_age_runs_window_days,
        max(value) filter (where key = 'shoes.rotation.window_days') as rotation_window_days,
        max(value) filter (where key = 'shoes.rotation.max_shoes_info') as rotation_max_shoes_info,
        max(value) filter (where key = 'shoes.unknown_gear.window_days') as unknown_gear_window_days,
        max(value) filter (where key = 'shoes.unknown_gear.share_info') as unknown_gear_share_info,
        max(value) filter (where key = 'posture.cadence.watch_spm') as cadence_watch_spm,
        max(value) filter (where key = 'posture.cadence.suggest_low') as cadence_suggest_low,
        max(value) filter (where key = 'posture.cadence.suggest_high') as cadence_suggest_high,
        max(value) filter (where key = 'posture.form_fading.min_minutes') as fade_min_minutes,
        max(value) filter (where key = 'posture.form_fading.cadence_drop') as fade_cadence_drop,
        max(value) filter (where key = 'posture.form_fading.pace_fade') as fade_pace_fade,
        max(value) filter (where key = 'surface.no_soft_surface.window_days') as surface_window_days,
        max(value) filter (where key = 'preparation.warmup.slower_share') as warmup_slower_share,
        max(value) filter (where key = 'preparation.warmup.window_days') as warmup_window_days,
        max(value) filter (where key = 'preparation.warmup.min_share') as warmup_min_share,
        max(value) filter (where key = 'preparation.warmup.min_runs') as warmup_min_runs,
        max(value) filter (where key = 'preparation.warmup.min_split_m') as warmup_min_split_m,
        max(value) filter (
            where key = 'preparation.warmup.pre_activity_gap_minutes'
        ) as warmup_pre_activity_gap_minutes,
        max(value) filter (
            where key = 'preparation.warmup.pre_activity_max_minutes'
        ) as warmup_pre_activity_max_minutes,
        max(value) filter (where key = 'strength.no_strength_14d.window_days') as strength_none_window_days,
        max(value) filter (where key = 'strength.low_frequency.window_days') as strength_low_window_days,
        max(value) filter (where key = 'strength.low_frequency.min_per_week') as strength_low_min_per_week,
        max(value) filter (where key = 'injury.pain_notes.window_days') as pain_window_days,
        max(value) filter (where key = 'injury.return_after_break.gap_days') as break_gap_days,
        max(value) filter (where key = 'injury.return_after_break.return_days') as break_return_days,
        max(value) filter (where key = 'injury.return_after_break.prebreak_days') as break_prebreak_days
    from effective
    group by athlete_id
)

select * from pivoted
