"""One activity at a time, as webhook events ask: fetch a created or edited one, delete a deleted one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pipeline import tokens as token_store
from pipeline.config import Settings
from pipeline.loading import RUN_TYPES, LandingItem, land
from pipeline.strava_client import Api, AuthRevoked, Budget, Deferred, MalformedPayload, StravaError, make_client
from pipeline.sync.fetch import STREAM_KEYS
from pipeline.sync.plan import epoch
from pipeline.sync.records import Fetched, SyncResult
from pipeline.sync.store import ingest_and_release
from pipeline.transaction import transaction
from pipeline.upsert import insert_missing_rows
from pipeline.warehouse import writer


def fetch_activity(settings: Settings, athlete_id: int, activity_id: int) -> SyncResult:
    """Fetch one created or updated activity (detail, and streams for a recent run) and ingest it."""
    result = SyncResult(athlete_id)
    tokens = token_store.load_tokens(settings, athlete_id)
    if tokens is None:
        result.status, result.message = "needs_reauth", "no tokens stored"
        return result
    budget = Budget(settings.reserve_short, settings.reserve_daily)
    api = Api(make_client(settings, tokens, budget), settings, athlete_id, tokens, budget)
    got = Fetched()
    try:
        _get_activity(api, settings, activity_id, got, result)
    except MalformedPayload as bad:
        got.items.append(LandingItem.malformed("activity_detail", activity_id, bad.raw_text, str(bad)))
        result.status, result.message = "error", str(bad)
    except Deferred as err:
        got.enqueue[(activity_id, "detail")] = (None, None)
        result.status, result.message = "deferred", token_store.redact_secrets(settings, str(err))
    except AuthRevoked as err:
        result.status, result.message = "needs_reauth", token_store.redact_secrets(settings, str(err))
    except StravaError as err:
        result.status, result.message = "error", token_store.redact_secrets(settings, str(err))
    except Exception as err:
        if type(err).__name__ != "ObjectNotFound":  # stravalib's 404
            raise
        result.status, result.message = "error", "activity not found on Strava"
    result.requests = api.requests
    _store_activity(settings, athlete_id, activity_id, got)
    return result


def _get_activity(api: Api, settings: Settings, activity_id: int, got: Fetched, result: SyncResult) -> None:
    """The detail, then the streams when it is a run inside the lookback window."""
    lookback_start = int((datetime.now(UTC) - timedelta(weeks=settings.lookback_weeks)).timestamp())
    detail = api.get(f"/activities/{activity_id}", include_all_efforts=False)
    got.items.append(LandingItem.from_text("activity_detail", activity_id, api.last_text))
    result.details = result.new_activities = 1
    start = epoch(detail.get("start_date")) if isinstance(detail, dict) else None
    sport = (detail.get("sport_type") or detail.get("type")) if isinstance(detail, dict) else None
    if sport in RUN_TYPES and (start or 0) >= lookback_start:
        api.get(f"/activities/{activity_id}/streams", keys=STREAM_KEYS, key_by_type=True)
        got.items.append(LandingItem.from_text("streams", activity_id, api.last_text))
        result.streams = 1


def _store_activity(settings: Settings, athlete_id: int, activity_id: int, got: Fetched) -> None:
    """Land what came (lifting a tombstone: Strava has it after all), queue a deferred detail, ingest."""
    batch_id = f"{athlete_id}-event-{activity_id}-{uuid.uuid4().hex[:6]}"
    with writer(settings) as con:
        if got.items:  # Strava has it after all: it is not deleted
            con.execute("delete from deleted_activities where activity_id = ?", [activity_id])
        land(con, athlete_id, batch_id, got.items)
        if got.enqueue:
            insert_missing_rows(
                con,
                "fetch_queue",
                ("athlete_id", "activity_id", "kind"),
                [(athlete_id, a, k) for (a, k) in got.enqueue],
            )
        ingest_and_release(con)


def delete_activity(settings: Settings, athlete_id: int, activity_id: int) -> int:
    """Delete an activity the athlete deleted on Strava; a tombstone stops it coming back."""
    with writer(settings) as con, transaction(con):
        insert_missing_rows(con, "deleted_activities", ("activity_id", "athlete_id"), [(activity_id, athlete_id)])
        removed = 0
        for table in ("activities", "splits", "stream_features", "fetch_queue"):
            removed += con.execute(
                f"delete from {table} where activity_id = ? and athlete_id = ?", [activity_id, athlete_id]
            ).fetchall()[0][0]
    return removed
