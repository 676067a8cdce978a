-- One quarantine row per landing problem (`__landing_problems`), with its reason and where the
-- body lies in landing; $table_name is 'landing', $batch_label the batch.
-- Keyed (table_name, record_key, batch_id): a problem found again replaces its row.
merge into quarantine as t
using (
    select
        $table_name as problem_table,
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
) as s
    on (t.table_name = s.problem_table and t.record_key = s.record_key and t.batch_id = s.batch_id)
when matched then
    update
        set
            athlete_id = s.athlete_id,
            activity_id = s.activity_id,
            failed_expectations = s.failed_expectations,
            row_json = s.row_json,
            quarantined_at = s.quarantined_at,
            released_at = s.released_at,
            superseded_by = s.superseded_by
when not matched then insert (
    table_name, record_key, athlete_id, activity_id, batch_id, failed_expectations,
    row_json, quarantined_at, released_at, superseded_by
) values (
    s.problem_table, s.record_key, s.athlete_id, s.activity_id, s.batch_id, s.failed_expectations,
    s.row_json, s.quarantined_at, s.released_at, s.superseded_by
)
