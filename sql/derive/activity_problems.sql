-- One row per element of the pending batches' activity bodies that cannot become an activity
-- row, ready for quarantine (table_name 'landing'). Reads the temp table activity_items.
select
    case
        when id_text is not null and problem not in ('activities_page_not_a_list', 'activity_not_an_object')
            then 'activity:' || id_text || case
                when problem = 'activity_id_repeated_in_page'
                    then ':copy' || copy
                else ''
            end
        else endpoint || ':' || landing_id || ':' || ordinal
    end as record_key,
    athlete_id,
    try_cast(id_text as bigint) as activity_id,
    problem,
    landing_id,
    endpoint,
    ordinal,
    case when length(element::varchar) <= 100000 then element end as element,
    length(element::varchar) as element_chars
from (
    select
        * replace (
            case
                when problem is null and copy > 1 and element::varchar <> first_copy
                    then 'activity_id_repeated_in_page'
                else problem
            end as problem
        )
    from activity_items
) as items
where problem is not null and batch_id in (select pb.batch_id from pending_batches as pb)
order by landing_id, ordinal
