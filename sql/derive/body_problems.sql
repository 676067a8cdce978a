-- One row per streams or gear body of the pending batches whose shape no derivation can read,
-- ready for quarantine. A valid shape without a usable time series (a manual entry, a
-- distance-only recording) is no problem: it simply gives no stream summary.
select
    endpoint || ':' || coalesce(object_id, '') || ':' || landing_id as record_key,
    athlete_id,
    case when endpoint = 'streams' then try_cast(object_id as bigint) end as activity_id,
    problem,
    landing_id,
    endpoint,
    0 as ordinal,
    case when length(payload::varchar) <= 100000 then payload end as element,
    length(payload::varchar) as element_chars
from (
    select
        *,
        case
            when endpoint = 'gear' and json_type(payload) <> 'OBJECT' then 'gear_not_an_object'
            when endpoint = 'streams' and json_type(payload) not in ('OBJECT', 'ARRAY')
                then 'streams_not_an_object_or_list'
            when
                endpoint = 'streams'
                and exists (
                    select 1
                    from unnest(list_concat(json_extract(payload, '$[*]'), json_extract(payload, '$.*'))) as e (entry)
                    where json_type(e.entry) <> 'OBJECT'
                )
                then 'streams_unrecognised_shape'
        end as problem
    from landing
    where
        batch_id in (select pb.batch_id from pending_batches as pb) and endpoint in ('streams', 'gear')
        and payload is not null
) as bodies
where problem is not null
order by landing_id
