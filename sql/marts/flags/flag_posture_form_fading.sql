-- flag_posture_form_fading: weeks with a long run whose cadence or pace faded in the last third.
-- grain: one row per athlete per week where the rule fired (the week's most faded run)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: int_run_form.fading (45+ moving minutes and a cadence drop of fade_cadence_drop (4%) or
--   more, or a pace fade of fade_pace_fade (8%) or more, last third vs first third): watch.
-- materialized: view
with fired as (
    select
        int_run_form.*,
        int_params.fade_cadence_drop,
        int_params.fade_pace_fade,
        coalesce(int_run_form.cadence_drop >= int_params.fade_cadence_drop, false) as cadence_faded,
        row_number() over (
            partition by int_run_form.athlete_id, int_run_form.week_start
            order by
                greatest(
                    coalesce(int_run_form.cadence_drop / int_params.fade_cadence_drop, 0),
                    coalesce(int_run_form.pace_fade / int_params.fade_pace_fade, 0)
                ) desc,
                int_run_form.activity_id
        ) as rank_in_week
    from int_run_form
    inner join int_params on int_run_form.athlete_id = int_params.athlete_id
    where int_run_form.fading
)

select
    athlete_id,
    week_start,
    'posture.form_fading' as rule_id,
    'watch' as severity,
    format(
        'On your {:.0f}-minute run on {}, {} in the last third than in the first. Form tends to falter '
        || 'when tired (limited evidence): keep your back straight, shoulders relaxed and arms at 90 degrees, '
        || 'or run with a buddy or a club.',
        moving_time_s / 60,
        strftime(day, '%A %-d %B'),
        case
            when cadence_faded
                then format('you took {:.0f}% fewer steps per minute', cadence_drop * 100)
            else format('your pace was {:.0f}% slower', pace_fade * 100)
        end
    ) as message,
    json_object(
        'activity_id', activity_id,
        'day', day,
        'moving_time_s', moving_time_s,
        'first_third_spm', round(first_third_spm, 1),
        'last_third_spm', round(last_third_spm, 1),
        'cadence_drop', cadence_drop,
        'pace_fade', pace_fade,
        'hr_drift', hr_drift
    ) as metrics
from fired
where rank_in_week = 1
