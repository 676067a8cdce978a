-- Open landing problems of earlier batches that this batch ($batch_label) landed again
-- are superseded ($table_name is 'landing').
update quarantine set superseded_by = $batch_label, released_at = now()
where
    table_name = $table_name
    and batch_id <> $batch_label
    and released_at is null
    and superseded_by is null
    and record_key in (select record_key from __landing_problems)
