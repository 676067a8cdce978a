-- int_weeks: the calendar of each athlete, from the ISO week of their first activity to that of
--   their last (weeks without any activity included), in the athlete's local time.
-- grain: one row per athlete per ISO week
-- columns:
--   athlete_id
--   week_start: the Monday; week_end: the Sunday
--   week_index: 0 for the athlete's first week, then 1, 2, ...
--   first_activity_day: the local day of the athlete's first activity (any sport) in the warehouse
--   history_days: days of history up to the week's Sunday, both ends counted (a first activity
--     on a Monday gives 7 in its week); backstride cannot see anything before the first activity
-- materialized: table
with span as (
    select
        athlete_id,
        min(day) as first_activity_day,
        min(week_start) as first_week,
        max(week_start) as last_week
    from int_activities
    group by athlete_id
),

weeks as (
    select
        athlete_id,
        first_activity_day,
        first_week,
        cast(unnest(generate_series(first_week, last_week, interval 7 day)) as date) as week_start
    from span
)

select
    athlete_id,
    week_start,
    week_start + 6 as week_end,
    date_diff('day', first_week, week_start) // 7 as week_index,
    first_activity_day,
    cast(date_diff('day', first_activity_day, week_start + 6) + 1 as integer) as history_days
from weeks
