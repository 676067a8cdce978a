-- One quarantine row per landing problem (`__landing_problems`), with its reason and where the
-- body lies in landing; $table_name is 'landing', $batch_label the batch.
insert or replace into quarantine (
    table_name, record_key, athlete_id, activity_id, batch_id, failed_expectations,
    row_json, quarantined_at, released_at, superseded_by
)
select
    $table_name,
    record_key,
    athlete_id,
    activity_id,
    $batch_label as batch_id,
    [problem] as failed_expectations,
    json_object(
        'reason', reason, 'endpoint', endpoint, 'landing_id', landing_id,
        'ordinal', ordinal, 'element_chars', element_chars, 'element', element
    ) as row_json,
    now() as quarantined_at,
    null as released_at,
    null as superseded_by
from __landing_problems
