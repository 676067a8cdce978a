-- One row per activity touched by the pending batches: its newest landed version (list page or
-- detail), with description and gear taken from the newest detail. Reads `activity_items` and
-- the macros of json_readers.sql. activity_paths() and the struct below go together: field i of
-- the struct reads v[i] and t[i] (one JSON parse per element for all fields).
with fields as (
    select
        i.*,
        json_extract_string(i.element, activity_paths()) as v,
        json_type(i.element, activity_paths()) as t
    from activity_items as i
    where i.problem is null and coalesce(i.copy, 1) = 1
),

typed as (
    select
        landing_id,
        athlete_id,
        batch_id,
        kind,
        ordinal,
        id,
        struct_pack(
            id := id,
            name := json_text_field(v[1], t[1]),
            description := json_text_field(v[2], t[2]),
            sport_type := json_string_field(v[3], t[3]),
            type := json_string_field(v[4], t[4]),
            start_date := json_string_field(v[5], t[5]),
            start_date_local := json_string_field(v[6], t[6]),
            timezone := json_string_field(v[7], t[7]),
            distance := json_number_field(v[8], t[8]),
            moving_time := json_number_field(v[9], t[9]),
            elapsed_time := json_number_field(v[10], t[10]),
            total_elevation_gain := json_number_field(v[11], t[11]),
            average_speed := json_number_field(v[12], t[12]),
            max_speed := json_number_field(v[13], t[13]),
            average_cadence := json_number_field(v[14], t[14]),
            average_heartrate := json_number_field(v[15], t[15]),
            max_heartrate := json_number_field(v[16], t[16]),
            gear_id := json_id_field(v[17], t[17]),
            trainer := json_boolean_field(v[18], t[18]),
            manual := json_boolean_field(v[19], t[19]),
            workout_type := json_number_field(v[20], t[20])
        ) as a
    from fields
),

touched as (
    select distinct typed.id from typed
    where typed.batch_id in (select pb.batch_id from pending_batches as pb)
),

versions as (
    select * from typed
    where id in (select t.id from touched as t)
),

ranked as (
    select
        *,
        row_number() over (partition by id order by landing_id desc, ordinal asc) as newest,
        row_number() over (partition by id, kind order by landing_id desc, ordinal asc) as newest_of_kind
    from versions
),

latest as (
    select * from ranked
    where newest = 1
),

detail as (
    select * from ranked
    where kind = 'detail' and newest_of_kind = 1
)

select
    latest.id as activity_id,
    latest.athlete_id,
    latest.a.name,
    detail.a.description,
    coalesce(latest.a.sport_type, latest.a.type) as sport_type,
    latest.a.type,
    try_cast(latest.a.start_date as timestamptz) as start_date,
    try_cast(replace(latest.a.start_date_local, 'Z', '') as timestamp) as start_date_local,
    latest.a.timezone,
    latest.a.distance,
    try_cast(latest.a.moving_time as integer) as moving_time,
    try_cast(latest.a.elapsed_time as integer) as elapsed_time,
    latest.a.total_elevation_gain,
    latest.a.average_speed,
    latest.a.max_speed,
    latest.a.average_cadence,
    latest.a.average_heartrate,
    latest.a.max_heartrate,
    coalesce(latest.a.gear_id, detail.a.gear_id) as gear_id,
    latest.a.trainer,
    latest.a.manual,
    try_cast(latest.a.workout_type as integer) as workout_type,
    detail.landing_id is not null as has_detail,
    latest.landing_id,
    latest.batch_id,
    now() as loaded_at
from latest
left join detail on latest.id = detail.id
where latest.a.id not in (select da.activity_id from deleted_activities as da)
