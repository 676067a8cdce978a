"""Pulling athletes' activities from Strava into the warehouse.

Per athlete: refresh the token if needed, list activities (a first listing pages newest
first, later ones oldest first from the cursor, pages of 200), and queue what the rules need:
details and streams of runs in the lookback window, the profile when it is missing or older
than the newest activity, and every shoe referenced by the profile or an activity (stored or
quarantined) that has no body yet. The queue (`fetch_queue`) is fetched profile and gear
first, then newest run first. A gear that answers 404 is landed as `gear_missing` and becomes
a gear row with `missing` true; it is never requested again. Payloads land as they came; the
typed tables are then derived, validated and merged (`loading.ingest_pending`), and when gear
arrived the quarantine is re-checked so runs waiting for their shoe are released.

Requests are the scarce resource: an athlete with nothing new costs one request. When the
rate-limit budget is spent (or Strava answers 429) the athlete is reported as deferred and
the paging position and queue are saved, so the next run goes on from there. `sync_all`
shares one budget between athletes in two passes: every athlete's newest week first, then
everyone's backlog in turns.

One module per job:

- `plan`: what to fetch (listing window, queue, fetch order, athlete order) from the stored state
- `fetch`: the Strava calls (listing pages, queued fetches)
- `store`: landing and progress in one transaction; ingestion
- `run`: `sync_athlete` and `sync_all`
- `events`: single activities for webhook events (fetch, delete)
- `records`: the result and the records passed between the steps

Athlete registration and removal live in `pipeline.athletes`; they are re-exported here for
the callers that import them from `pipeline.sync`.
"""

from pipeline.athletes import register_athlete, remove_athlete
from pipeline.sync.events import delete_activity, fetch_activity
from pipeline.sync.fetch import PAGE_SIZE, STREAM_KEYS
from pipeline.sync.plan import (
    CURSOR_OVERLAP_S,
    RELIST_WHILE_BACKLOG_S,
    TURN_REQUESTS,
    WEEK_S,
    gear_queue_key,
    signature,
    urgent_start,
)
from pipeline.sync.records import SyncResult
from pipeline.sync.run import sync_all, sync_athlete, sync_lock
from pipeline.sync.store import MAX_FETCH_ATTEMPTS, ingest_and_release, registered_athletes

__all__ = [
    "CURSOR_OVERLAP_S",
    "MAX_FETCH_ATTEMPTS",
    "PAGE_SIZE",
    "RELIST_WHILE_BACKLOG_S",
    "STREAM_KEYS",
    "TURN_REQUESTS",
    "WEEK_S",
    "SyncResult",
    "delete_activity",
    "fetch_activity",
    "gear_queue_key",
    "ingest_and_release",
    "register_athlete",
    "registered_athletes",
    "remove_athlete",
    "signature",
    "sync_all",
    "sync_athlete",
    "sync_lock",
    "urgent_start",
]
