-- int_activities: every activity placed in the athlete's local calendar and classified.
-- grain: one row per activity (any sport)
-- columns:
--   activity_id, athlete_id, name, description, sport_type: as in stg_activities
--   local_start: wall-clock start in the athlete's zone (start_date_local, else start_date_utc
--     converted with the athlete's timezone); local_end: local_start + elapsed time
--   day: local calendar day; week_start: Monday of the ISO week of that day
--   distance_km, moving_time_s, elapsed_time_s, elevation_gain_m, average_hr, steps_per_min, gear_id
--   shoe_id: gear_id when that gear is a shoe (null when no gear or a bike)
--   is_run, is_treadmill, is_soft_surface, is_strength: categories from the activity_categories seed
--     (sport types, and whole words in the name or description for soft surfaces); is_strength:
--     a 'strength' sport type (WeightTraining, Crossfit, Pilates, Yoga), or a 'strength_workout'
--     sport type (Workout, Strava's catch-all) whose name or description has a 'strength_workout'
--     word (strength, core, gym, weights, circuit, bodyweight, kettlebell, ...)
--   pain_words: pain words found in the name or description (activity_categories 'pain')
--   (words_<category>() are macros the runner builds from the activity_categories seed)
--   load: moving minutes x average HR / hr_reference_bpm (moving minutes alone without HR)
-- materialized: table
with activities as (
    select * from stg_activities
),

athletes as (
    select * from stg_athletes
),

gear as (
    select * from stg_gear
),

params as (
    select
        athlete_id,
        hr_reference_bpm
    from int_params
),

sport_types as (
    select
        value as sport_type,
        bool_or(category = 'run') as is_run,
        bool_or(category = 'treadmill') as is_treadmill,
        bool_or(category = 'soft_surface') as is_soft_surface,
        bool_or(category = 'strength') as is_strength,
        bool_or(category = 'strength_workout') as is_strength_workout
    from activity_categories
    where match_on = 'sport_type'
    group by value
),

placed as (
    select
        activities.*,
        coalesce(
            activities.start_date_local,
            timezone(coalesce(athletes.timezone, 'UTC'), activities.start_date_utc)
        ) as local_start,
        lower(activities.name || ' ' || activities.description) as text_lower,
        case
            when activities.gear_id is null then null
            when gear.gear_type = 'shoe' then activities.gear_id
            when gear.gear_type is null and activities.gear_id not like 'b%' then activities.gear_id
        end as shoe_id
    from activities
    left join athletes on activities.athlete_id = athletes.athlete_id
    left join gear on activities.gear_id = gear.gear_id
),

classified as (
    select
        placed.activity_id,
        placed.athlete_id,
        placed.name,
        placed.description,
        placed.sport_type,
        placed.local_start,
        placed.local_start + to_seconds(placed.elapsed_time_s) as local_end,
        cast(placed.local_start as date) as day,
        cast(date_trunc('week', placed.local_start) as date) as week_start,
        placed.distance_km,
        placed.moving_time_s,
        placed.elapsed_time_s,
        placed.elevation_gain_m,
        placed.average_hr,
        placed.steps_per_min,
        placed.gear_id,
        placed.shoe_id,
        coalesce(sport_types.is_run, false) as is_run,
        placed.trainer or coalesce(sport_types.is_treadmill, false) as is_treadmill,
        coalesce(sport_types.is_soft_surface, false)
        or regexp_matches(placed.text_lower, words_soft_surface()) as is_soft_surface,
        coalesce(sport_types.is_strength, false)
        or (
            coalesce(sport_types.is_strength_workout, false)
            and regexp_matches(placed.text_lower, words_strength_workout())
        ) as is_strength,
        regexp_extract_all(placed.text_lower, words_pain()) as pain_words,
        placed.moving_time_s / 60.0
        * coalesce(placed.average_hr / params.hr_reference_bpm, 1.0) as load
    from placed
    left join params on placed.athlete_id = params.athlete_id
    left join sport_types on placed.sport_type = sport_types.sport_type
)

select * from classified
