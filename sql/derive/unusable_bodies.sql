-- Bodies of the pending batches that could not be parsed or keyed (they stay in landing):
-- (endpoint, object_id, parse_error), for the log.
select
    endpoint,
    object_id,
    parse_error
from landing
where batch_id in (select pb.batch_id from pending_batches as pb) and payload is null
