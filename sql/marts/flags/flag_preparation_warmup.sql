-- flag_preparation_warmup: weeks whose last 4 weeks had few runs starting with a warm-up.
-- grain: one row per athlete per week where the rule fired
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: over the warmup_window_days (28, whole weeks ending this Sunday), at least
--   warmup_min_runs (3) runs whose warm-up is known, and the share with one below
--   warmup_min_share (0.5): watch.
-- materialized: view
with windowed as (
    select
        int_week_windows.athlete_id,
        int_week_windows.week_start,
        int_week_windows.warmup_weeks as window_weeks,
        int_params.warmup_min_share,
        int_params.warmup_min_runs,
        int_week_windows.warmup_runs_known as runs_known,
        int_week_windows.warmup_runs_with_warmup as runs_with_warmup
    from int_week_windows
    inner join int_params on int_week_windows.athlete_id = int_params.athlete_id
),

fired as (
    select
        *,
        runs_with_warmup / runs_known as share
    from windowed
    where runs_known >= warmup_min_runs and runs_with_warmup / runs_known < warmup_min_share
)

select
    athlete_id,
    week_start,
    'preparation.warmup' as rule_id,
    'watch' as severity,
    format(
        '{} your {:d} runs in the last {:d} weeks{} began with an easier first kilometre or a short '
        || 'activity before. Warming up (gentle stretches, then raising the heart rate) is commonly advised; '
        || 'trials give limited and mixed evidence.',
        case
            when runs_with_warmup = 0 then 'None of'
            else format('Only {:d} of', cast(runs_with_warmup as integer))
        end,
        cast(runs_known as integer),
        window_weeks,
        case when runs_with_warmup = 0 then '' else format(' ({:.0f}%)', share * 100) end
    ) as message,
    json_object(
        'runs_known', runs_known,
        'runs_with_warmup', runs_with_warmup,
        'share', round(share, 3),
        'window_weeks', window_weeks
    ) as metrics
from fired
