-- One row per landing batch not ingested yet: (batch_id, athlete_id), in order of arrival.
select
    batch_id,
    any_value(athlete_id) as athlete_id
from landing
where batch_id not in (select il.batch_id from ingest_log as il)
group by batch_id
order by min(landing_id)
