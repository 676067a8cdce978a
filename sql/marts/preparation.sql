-- preparation: warm-up and cool-down of each run.
-- grain: one row per run
-- columns:
--   athlete_id, activity_id, day, week_start
--   full_splits: km splits long enough to judge (null: splits not fetched)
--   first_split_pace_s_per_km, median_split_pace_s_per_km, last_split_pace_s_per_km
--   warmup_by_pace: the first km was at least preparation.warmup slower_share (5%) slower than
--     the median km; cooldown_by_pace: the same for the last full km
--   warmup_activity_id: a short activity that ended just before the run (counts as a warm-up)
--   has_warmup: either of the above; null when neither splits nor such an activity are known
select
    athlete_id,
    activity_id,
    day,
    week_start,
    full_splits,
    first_split_pace_s_per_km,
    median_split_pace_s_per_km,
    last_split_pace_s_per_km,
    warmup_by_pace,
    cooldown_by_pace,
    warmup_activity_id,
    has_warmup
from int_run_preparation
