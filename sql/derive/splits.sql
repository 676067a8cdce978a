-- One row per split of each activity detail touched by the pending batches (newest detail per
-- activity); numbers that are not finite become NULL.
with touched as (
    select distinct object_id from landing
    where batch_id in (select pb.batch_id from pending_batches as pb) and endpoint = 'activity_detail'
),

detail as (
    select
        l.*,
        row_number() over (partition by l.object_id order by l.landing_id desc) as newest
    from landing as l inner join touched on l.object_id = touched.object_id
    where l.endpoint = 'activity_detail' and l.payload is not null
),

items as (
    select
        try_cast(object_id as bigint) as activity_id,
        athlete_id,
        unnest(coalesce(try_cast(payload -> '$.splits_metric[*]' as json[]), []::json[])) as s
    from detail
    where newest = 1
)

select
    activity_id,
    athlete_id,
    coalesce(try_cast(s ->> 'split' as integer), -1) as split,
    finite_double(s ->> 'distance') as distance,
    try_cast(finite_double(s ->> 'elapsed_time') as integer) as elapsed_time,
    try_cast(finite_double(s ->> 'moving_time') as integer) as moving_time,
    finite_double(s ->> 'average_speed') as average_speed,
    finite_double(s ->> 'average_heartrate') as average_heartrate,
    finite_double(s ->> 'elevation_difference') as elevation_difference,
    try_cast(finite_double(s ->> 'pace_zone') as integer) as pace_zone
from items
-- a detail whose id does not fit is quarantined as a landing problem; no splits are derived from it
where activity_id is not null and activity_id not in (select da.activity_id from deleted_activities as da)
