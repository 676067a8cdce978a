-- The rows of temp table activity_items (the loader creates it from this query): one row per
-- element of the list pages and per detail body of the athletes touched by the pending
-- batches, with its id checked. `problem` names why an element cannot become an activity row
-- (it then goes to quarantine with that reason; the body stays in landing). A second copy of an
-- id in one page: identical copies are one activity; a copy that differs is held back (the
-- first in page order is loaded): `copy` numbers them, `first_copy` holds the first one's text.
with touched_athletes as (
    select distinct athlete_id from landing
    where
        batch_id in (select pb.batch_id from pending_batches as pb)
        and endpoint in ('activities_page', 'activity_detail')
        and payload is not null
),

bodies as (
    select
        l.landing_id,
        l.athlete_id,
        l.batch_id,
        l.endpoint,
        l.payload,
        json_type(l.payload) as body_type
    from landing as l
    inner join touched_athletes on l.athlete_id = touched_athletes.athlete_id
    where l.endpoint in ('activities_page', 'activity_detail') and l.payload is not null
),

items as (
    select
        landing_id,
        athlete_id,
        batch_id,
        endpoint,
        'summary' as kind,
        unnest(payload -> '$[*]') as element,
        generate_subscripts(payload -> '$[*]', 1) as ordinal
    from bodies
    where endpoint = 'activities_page' and body_type = 'ARRAY'
    union all
    select
        landing_id,
        athlete_id,
        batch_id,
        endpoint,
        case when endpoint = 'activity_detail' then 'detail' else 'summary' end as kind,
        payload as element,
        0 as ordinal
    from bodies
    where endpoint = 'activity_detail' or body_type <> 'ARRAY'
),

checked as (
    select
        *,
        json_type(element) as element_type,
        json_type(element, '$.id') as id_type,
        json_extract_string(element, '$.id') as id_text
    from items
),

keyed as (
    select
        *,
        case when id_type in ('BIGINT', 'UBIGINT') then try_cast(id_text as bigint) end as id,
        case
            when endpoint = 'activities_page' and ordinal = 0 then 'activities_page_not_a_list'
            when coalesce(element_type, '') <> 'OBJECT' then 'activity_not_an_object'
            when id_type is null or id_type = 'NULL' then 'activity_id_missing'
            when id_type = 'VARCHAR' then 'activity_id_is_text'
            when
                id_type in ('BIGINT', 'UBIGINT', 'DOUBLE')
                and regexp_full_match(id_text, '-?[0-9]+')
                and try_cast(id_text as bigint) is null
                then 'activity_id_out_of_range'
            when id_type not in ('BIGINT', 'UBIGINT') then 'activity_id_not_an_integer'
            when try_cast(id_text as bigint) <= 0 then 'activity_id_not_positive'
        end as problem
    from checked
)

select
    *,
    case
        when problem is null and kind = 'summary'
            then row_number() over (partition by landing_id, id order by ordinal)
    end as copy,
    case
        when problem is null and kind = 'summary'
            then first(element::varchar) over (partition by landing_id, id order by ordinal)
    end as first_copy
from keyed
