-- run_streaks: runs of consecutive days with at least one run (gaps-and-islands on local days).
-- grain: one row per streak per athlete (a single running day is a streak of 1)
-- columns:
--   athlete_id, first_day, last_day, days: the streak's first and last day and its length
--   week_start: the ISO week the streak ended in
with run_days as (
    select distinct
        athlete_id,
        day
    from int_runs
),

islands as (
    select
        athlete_id,
        day,
        day - cast(row_number() over (partition by athlete_id order by day) as integer) as island
    from run_days
)

select
    athlete_id,
    min(day) as first_day,
    max(day) as last_day,
    count(*) as days,
    cast(date_trunc('week', max(day)) as date) as week_start
from islands
group by athlete_id, island
