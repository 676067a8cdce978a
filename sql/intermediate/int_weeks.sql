-- int_weeks: the calendar of each athlete, from the ISO week of their first activity to that of
--   their last (weeks without any activity included), in the athlete's local time.
-- grain: one row per athlete per ISO week
-- columns:
--   athlete_id
--   week_start: the Monday; week_end: the Sunday
--   week_index: 0 for the athlete's first week, then 1, 2, ...
-- materialized: table
with span as (
    select
        athlete_id,
        min(week_start) as first_week,
        max(week_start) as last_week
    from int_activities
    group by athlete_id
),

weeks as (
    select
        athlete_id,
        first_week,
        cast(unnest(generate_series(first_week, last_week, interval 7 day)) as date) as week_start
    from span
)

select
    athlete_id,
    week_start,
    week_start + 6 as week_end,
    date_diff('day', first_week, week_start) // 7 as week_index
from weeks
