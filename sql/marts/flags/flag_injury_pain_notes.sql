-- flag_injury_pain_notes: weeks with pain words in an activity's title or notes in the last 14 days.
-- grain: one row per athlete per week where the rule fired (naming the note with the most pain words)
-- columns: athlete_id, week_start, rule_id, severity, message, metrics (see risk_flags)
-- Rule: any activity (any sport) in the pain_window_days (14, whole weeks ending this Sunday)
--   whose name or description holds a pain word (activity_categories 'pain'): warning.
-- materialized: view
with params as (
    select
        athlete_id,
        cast(ceil(pain_window_days / 7) as integer) as window_weeks
    from int_params
),

spread as (
    select
        injury_signals.*,
        params.window_weeks,
        injury_signals.week_start + cast(7 * unnest(range(params.window_weeks)) as integer) as counted_in_week
    from injury_signals
    inner join params on injury_signals.athlete_id = params.athlete_id
    where injury_signals.signal = 'pain_note'
),

ranked as (
    select
        spread.*,
        count(*) over same_week as notes,
        row_number() over (
            same_week order by len(spread.pain_words) desc, spread.day desc, spread.activity_id desc
        ) as rank_in_week
    from spread
    inner join int_weeks
        on spread.athlete_id = int_weeks.athlete_id and spread.counted_in_week = int_weeks.week_start
    window same_week as (partition by spread.athlete_id, spread.counted_in_week)
)

select
    athlete_id,
    counted_in_week as week_start,
    'injury.pain_notes' as rule_id,
    'warning' as severity,
    format(
        'Your activity "{}" on {} mentions "{}"{}. A previous injury is one of the strongest predictors of '
        || 'the next one: rest from running, and see a doctor or physiotherapist, especially if the pain '
        || 'persists or gets worse.',
        activity_name,
        strftime(day, '%A %-d %B'),
        array_to_string(list_sort(list_distinct(pain_words)), '", "'),
        case
            when notes > 1
                then format(', and {:d} more of your notes in the last {:d} weeks do too', notes - 1, window_weeks)
            else ''
        end
    ) as message,
    json_object(
        'activity_id', activity_id,
        'day', day,
        'words', list_sort(list_distinct(pain_words)),
        'notes_in_window', notes
    ) as metrics
from ranked
where rank_in_week = 1
