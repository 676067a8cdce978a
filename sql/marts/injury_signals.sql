-- injury_signals: what hints at pain or a lay-off: pain words in notes, and returns after a break.
-- grain: one row per signal (an activity with pain words, or the first run after a break)
-- columns:
--   athlete_id, activity_id, day, week_start
--   signal: pain_note | return_after_break
--   activity_name: the activity's title
--   pain_words: the pain words found (pain_note)
--   break_days: whole days without a run before this one (return_after_break)
--   last_run_before_break: the day of the run before the break
--   prebreak_longest_km: longest run in the break_prebreak_days (30) up to the break
--   watch_until: the last day of the return period (break_return_days, 28, from this run)
with params as (
    select
        athlete_id,
        break_gap_days,
        break_return_days
    from int_params
),

pain_notes as (
    select
        athlete_id,
        activity_id,
        day,
        week_start,
        'pain_note' as signal,
        name as activity_name,
        pain_words,
        cast(null as integer) as break_days,
        cast(null as date) as last_run_before_break,
        cast(null as double) as prebreak_longest_km,
        cast(null as date) as watch_until
    from int_activities
    where len(pain_words) > 0
),

returns as (
    select
        int_runs.athlete_id,
        int_runs.activity_id,
        int_runs.day,
        int_runs.week_start,
        'return_after_break' as signal,
        int_runs.name as activity_name,
        cast([] as varchar[]) as pain_words,
        cast(date_diff('day', cast(int_runs.prev_run_start as date), int_runs.day) - 1 as integer) as break_days,
        cast(int_runs.prev_run_start as date) as last_run_before_break,
        int_runs.prebreak_longest_km,
        int_runs.day + cast(params.break_return_days as integer) - 1 as watch_until
    from int_runs
    inner join params on int_runs.athlete_id = params.athlete_id
    where date_diff('day', cast(int_runs.prev_run_start as date), int_runs.day) - 1 >= params.break_gap_days
)

select * from pain_notes
union all
select * from returns
