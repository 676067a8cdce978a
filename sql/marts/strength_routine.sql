-- strength_routine: strength, core, yoga and pilates sessions logged on Strava, per week.
-- grain: one row per athlete per ISO week (weeks without sessions included)
-- columns:
--   athlete_id, week_start
--   sessions, minutes: strength-type activities that week (activity_categories 'strength')
--   sessions_14d: sessions in the strength.no_strength_14d window (2 weeks ending this Sunday)
--   sessions_28d: sessions in the strength.low_frequency window (4 weeks ending this Sunday)
--   last_session_day: the latest strength session up to this week's Sunday
--   days_since_last_session: from that day to the Sunday
with weeks as (
    select * from int_week_activity
),

params as (
    select
        athlete_id,
        cast(ceil(strength_none_window_days / 7) as integer) as none_weeks,
        cast(ceil(strength_low_window_days / 7) as integer) as low_weeks
    from int_params
),

last_sessions as (
    select
        athlete_id,
        week_start,
        max(day) as last_day
    from int_activities
    where is_strength
    group by athlete_id, week_start
)

select
    weeks.athlete_id,
    weeks.week_start,
    weeks.strength_sessions as sessions,
    weeks.strength_minutes as minutes,
    sum(weeks.strength_sessions) over (
        partition by weeks.athlete_id order by weeks.week_start
        rows between params.none_weeks - 1 preceding and current row  -- noqa: PRS
    ) as sessions_14d,
    sum(weeks.strength_sessions) over (
        partition by weeks.athlete_id order by weeks.week_start
        rows between params.low_weeks - 1 preceding and current row  -- noqa: PRS
    ) as sessions_28d,
    max(last_sessions.last_day) over (
        partition by weeks.athlete_id order by weeks.week_start
        rows between unbounded preceding and current row
    ) as last_session_day,
    date_diff(
        'day',
        max(last_sessions.last_day) over (
            partition by weeks.athlete_id order by weeks.week_start
            rows between unbounded preceding and current row
        ),
        weeks.week_end
    ) as days_since_last_session
from weeks
inner join params on weeks.athlete_id = params.athlete_id
left join last_sessions
    on weeks.athlete_id = last_sessions.athlete_id and weeks.week_start = last_sessions.week_start
