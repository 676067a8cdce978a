-- surface_mix: where each week's runs happened, as far as Strava data tells.
-- grain: one row per athlete per ISO week (weeks without runs included)
-- columns:
--   athlete_id, week_start, runs
--   soft_surface_runs: TrailRun, or trail/grass/track words in the title or notes
--   treadmill_runs: VirtualRun or trainer flag
--   road_runs: the rest (assumed pavement: Strava does not record the surface)
--   soft_surface_km, treadmill_km, road_km, soft_surface_share (of runs)
select
    athlete_id,
    week_start,
    runs,
    soft_surface_runs,
    treadmill_runs,
    greatest(runs - soft_surface_runs - treadmill_runs, 0) as road_runs,
    soft_surface_km,
    treadmill_km,
    greatest(distance_km - soft_surface_km - treadmill_km, 0) as road_km,
    soft_surface_runs / nullif(runs, 0) as soft_surface_share
from int_week_activity
