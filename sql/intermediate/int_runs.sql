-- int_runs: the running activities (Run, TrailRun, VirtualRun) with the context each rule needs.
-- grain: one row per run
-- columns: everything in int_activities but description and pain_words (see int_activities), plus
--   prev_longest_spike_km, prev_longest_big_km, prev_run_start, next_run_start, next_run_id,
--   prebreak_longest_km: from int_run_context
--   hours_since_prev_run, hours_to_next_run: gaps in hours between run starts
-- materialized: table
select
    runs.* exclude (description, pain_words, is_run),  -- noqa: RF02
    context.prev_longest_spike_km,
    context.prev_longest_big_km,
    context.prev_run_start,
    context.next_run_start,
    context.next_run_id,
    context.prebreak_longest_km,
    date_diff('second', context.prev_run_start, runs.local_start) / 3600.0 as hours_since_prev_run,
    date_diff('second', runs.local_start, context.next_run_start) / 3600.0 as hours_to_next_run
from int_activities as runs
inner join int_run_context as context on runs.activity_id = context.activity_id
