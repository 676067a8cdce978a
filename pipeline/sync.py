"""Pulling athletes' activities from Strava into the warehouse.

Per athlete: refresh the token if needed, list activities newer than the cursor (pages of
200, oldest first), queue details and streams for runs in the lookback window, fetch the
queue newest first, and the profile and gear when anything changed. Payloads land as they
came; the typed tables are then derived, validated and merged (`loading.ingest_pending`).

Requests are the scarce resource: an athlete with nothing new costs one request. When the
rate-limit budget is spent (or Strava answers 429) the athlete is reported as deferred and
the paging position and queue are saved, so the next run goes on from there.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from pipeline import tokens as token_store
from pipeline.config import Settings
from pipeline.loading import RUN_TYPES, LandingItem, ingest_pending, land
from pipeline.strava_client import (
    Api,
    AuthRevoked,
    Budget,
    Deferred,
    MalformedPayload,
    StravaError,
    ensure_fresh,
    make_client,
)
from pipeline.warehouse import compact, delete_athlete_rows, file_lock, publish_replica, write_lock, writer

log = logging.getLogger(__name__)

PAGE_SIZE = 200
CURSOR_OVERLAP_S = 3 * 3600  # re-read the last few hours: late uploads and quick edits
STREAM_KEYS = "time,distance,velocity_smooth,heartrate,cadence,altitude"
MAX_FETCH_ATTEMPTS = 3


@dataclass
class SyncResult:
    athlete_id: int
    status: str = "ok"  # ok | deferred | needs_reauth | error
    new_activities: int = 0
    details: int = 0
    streams: int = 0
    requests: int = 0
    landed: int = 0
    message: str = ""
    pending: int = 0  # queued detail/stream fetches left for next time

    def summary(self) -> str:
        text = (
            f"athlete {self.athlete_id}: {self.status}, {self.new_activities} new or changed activities, "
            f"{self.details} details, {self.streams} streams, {self.requests} requests"
        )
        if self.pending:
            text += f", {self.pending} fetches left for next run"
        if self.message:
            text += f" ({self.message})"
        return text


@dataclass
class _State:
    cursor_epoch: int | None
    resume_after: int | None
    resume_page: int | None
    has_profile: bool
    known_gear: set[str]
    detailed: set[int]
    streamed: set[int]
    queue: list[tuple[int, str, int]]  # activity_id, kind, attempts
    known: dict[int, tuple]  # activity_id -> signature of the stored version


def signature(summary: dict) -> tuple:
    """The summary fields whose change means an activity was edited on Strava."""
    distance = summary.get("distance")
    return (
        summary.get("name"),
        summary.get("sport_type") or summary.get("type"),
        round(float(distance), 1) if isinstance(distance, int | float) else None,
        summary.get("moving_time"),
        summary.get("gear_id"),
    )


@dataclass
class _Fetched:
    items: list[LandingItem] = field(default_factory=list)
    enqueue: dict[tuple[int, str], int] = field(default_factory=dict)  # -> start epoch (for ordering)
    dequeue: set[tuple[int, str]] = field(default_factory=set)
    failed: set[tuple[int, str]] = field(default_factory=set)
    cursor_epoch: int | None = None
    paging_done: bool = False
    resume_after: int | None = None
    resume_page: int | None = None


ProgressFn = Callable[[int, str], None]


def _epoch(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _read_state(con: duckdb.DuckDBPyConnection, athlete_id: int) -> _State:
    row = con.execute(
        "select cursor_epoch, resume_after, resume_page from sync_state where athlete_id = ?", [athlete_id]
    ).fetchall()
    cursor, resume_after, resume_page = row[0] if row else (None, None, None)
    has_profile = bool(
        con.execute(
            "select count(*) from landing where athlete_id = ? and endpoint = 'athlete' and parse_error is null",
            [athlete_id],
        ).fetchall()[0][0]
    )
    known_gear = {
        r[0]
        for r in con.execute(
            "select distinct object_id from landing where athlete_id = ? and endpoint = 'gear' and parse_error is null",
            [athlete_id],
        ).fetchall()
    }
    fetched = con.execute(
        """select endpoint, try_cast(object_id as bigint) from landing
           where athlete_id = ? and endpoint in ('activity_detail', 'streams') and parse_error is null""",
        [athlete_id],
    ).fetchall()
    queue = con.execute(
        """select q.activity_id, q.kind, q.attempts from fetch_queue q
           left join activities a using (activity_id)
           where q.athlete_id = ? order by a.start_date desc nulls last, q.activity_id desc""",
        [athlete_id],
    ).fetchall()
    known = {
        int(r[0]): (r[1], r[2], None if r[3] is None else round(r[3], 1), r[4], r[5])
        for r in con.execute(
            "select activity_id, name, sport_type, distance, moving_time, gear_id from activities where athlete_id = ?",
            [athlete_id],
        ).fetchall()
    }
    return _State(
        known=known,
        cursor_epoch=cursor,
        resume_after=resume_after,
        resume_page=resume_page,
        has_profile=has_profile,
        known_gear=known_gear,
        detailed={i for e, i in fetched if e == "activity_detail"},
        streamed={i for e, i in fetched if e == "streams"},
        queue=[(int(a), k, int(n)) for a, k, n in queue],
    )


def _fetch(api: Api, athlete_id: int, state: _State, full: bool, lookback_start: int, result: SyncResult) -> _Fetched:
    """All the HTTP work for one athlete; returns what to land and how far it got."""
    got = _Fetched()
    # 1. list activities newer than the cursor, oldest first, resuming a paging in progress
    if state.resume_after is not None and not full:
        after, page = state.resume_after, state.resume_page or 1
    else:
        after = 0 if full or state.cursor_epoch is None else max(0, state.cursor_epoch - CURSOR_OVERLAP_S)
        page = 1
    got.resume_after, got.resume_page = after, page
    newest = state.cursor_epoch or 0
    changed: list[dict] = []
    seen_ids: set[int] = set()
    try:
        while True:
            try:
                body = api.get("/athlete/activities", after=after, page=page, per_page=PAGE_SIZE)
            except MalformedPayload as bad:
                got.items.append(LandingItem.malformed("activities_page", "list", bad.raw_text, str(bad)))
                raise Deferred(f"activity list page {page} was not valid JSON; will retry next run") from None
            if body != []:  # an empty page carries nothing worth keeping
                got.items.append(LandingItem.from_text("activities_page", "list", api.last_text))
            if not isinstance(body, list):
                raise Deferred(f"activity list page {page} was not a list; will retry next run")
            for summary in body:
                activity_id = summary.get("id") if isinstance(summary, dict) else None
                if not isinstance(activity_id, int):
                    log.warning("athlete %s: an activity summary without a numeric id (kept in landing)", athlete_id)
                    continue
                if activity_id in seen_ids:
                    continue
                seen_ids.add(activity_id)
                if state.known.get(activity_id) == signature(summary) and not full:
                    continue  # re-read through the cursor overlap, unchanged
                changed.append(summary)
                start = _epoch(summary.get("start_date")) or 0
                newest = max(newest, start)
            page += 1
            got.resume_page = page
            if len(body) < PAGE_SIZE:
                got.paging_done = True
                break
    except Deferred as err:
        got.cursor_epoch = state.cursor_epoch
        stopped: Deferred | None = err
    else:
        stopped = None
        got.cursor_epoch = newest or state.cursor_epoch
    result.new_activities = len(changed)

    # 2. queue details and streams for runs inside the lookback window
    for summary in changed:
        activity_id = summary["id"]
        start = _epoch(summary.get("start_date")) or 0
        sport = summary.get("sport_type") or summary.get("type")
        if sport in RUN_TYPES and start >= lookback_start:
            if activity_id not in state.detailed or activity_id in state.known:
                got.enqueue[(activity_id, "detail")] = start
            if activity_id not in state.streamed:
                got.enqueue[(activity_id, "streams")] = start
    if stopped is not None:
        raise _Partial(got, stopped)

    # 3. fetch the queue, newest activity first
    queue = {(a, k): n for a, k, n in state.queue}
    for key in got.enqueue:
        queue.setdefault(key, 0)
    order = sorted(queue, key=lambda key: -(got.enqueue.get(key, 0)))
    for activity_id, kind in order:
        try:
            if kind == "detail":
                api.get(f"/activities/{activity_id}", include_all_efforts=False)
                got.items.append(LandingItem.from_text("activity_detail", activity_id, api.last_text))
                result.details += 1
            else:
                api.get(f"/activities/{activity_id}/streams", keys=STREAM_KEYS, key_by_type=True)
                got.items.append(LandingItem.from_text("streams", activity_id, api.last_text))
                result.streams += 1
            got.dequeue.add((activity_id, kind))
        except MalformedPayload as bad:
            endpoint = "activity_detail" if kind == "detail" else "streams"
            got.items.append(LandingItem.malformed(endpoint, activity_id, bad.raw_text, str(bad)))
            log.warning("activity %s: %s body was not valid JSON; kept in landing", activity_id, kind)
            got.failed.add((activity_id, kind))
        except StravaError as err:
            if isinstance(err, (Deferred, AuthRevoked)):
                raise _Partial(got, err) from None
            log.warning("activity %s: %s fetch failed: %s", activity_id, kind, err)
            got.failed.add((activity_id, kind))
        except Exception as err:
            if type(err).__name__ == "ObjectNotFound":
                log.info("activity %s: gone from Strava (404); dropped from the queue", activity_id)
                got.dequeue.add((activity_id, kind))
            else:
                raise

    # 4. profile (shoes with their running totals) and gear we have not seen
    if full or changed or not state.has_profile:
        try:
            profile = api.get("/athlete")
            got.items.append(LandingItem.from_text("athlete", athlete_id, api.last_text))
            shoes = (
                [s.get("id") for s in (profile.get("shoes") or []) if isinstance(s, dict)]
                if isinstance(profile, dict)
                else []
            )
            used = {s.get("gear_id") for s in changed if s.get("gear_id")}
            for gear_id in sorted({g for g in shoes + list(used) if g}):
                if gear_id in state.known_gear and not full:
                    continue
                api.get(f"/gear/{gear_id}")
                got.items.append(LandingItem.from_text("gear", gear_id, api.last_text))
        except MalformedPayload as bad:
            got.items.append(LandingItem.malformed("athlete", athlete_id, bad.raw_text, str(bad)))
        except StravaError as err:
            raise _Partial(got, err) from None
    return got


class _Partial(Exception):
    """Fetching stopped early; carries what was fetched so far."""

    def __init__(self, fetched: _Fetched, cause: StravaError | None = None) -> None:
        super().__init__(str(cause) if cause else "deferred")
        self.fetched = fetched
        self.cause = cause or Deferred("rate limit")


def _write(con: duckdb.DuckDBPyConnection, athlete_id: int, batch_id: str, got: _Fetched, result: SyncResult) -> None:
    """Land payloads and record progress in one transaction."""
    con.execute("begin")
    try:
        result.landed = land(con, athlete_id, batch_id, got.items)
        if got.enqueue:
            con.executemany(
                "insert or ignore into fetch_queue (athlete_id, activity_id, kind) values (?, ?, ?)",
                [[athlete_id, a, k] for (a, k) in got.enqueue],
            )
        if got.dequeue:
            con.executemany(
                "delete from fetch_queue where activity_id = ? and kind = ?", [[a, k] for (a, k) in got.dequeue]
            )
        if got.failed:
            con.executemany(
                "update fetch_queue set attempts = attempts + 1 where activity_id = ? and kind = ?",
                [[a, k] for (a, k) in got.failed],
            )
            con.execute("delete from fetch_queue where attempts >= ?", [MAX_FETCH_ATTEMPTS])
        resume_after = None if got.paging_done else got.resume_after
        resume_page = None if got.paging_done else got.resume_page
        con.execute(
            """insert or replace into sync_state
               (athlete_id, cursor_epoch, resume_after, resume_page, last_sync_at, last_status, last_message, requests_used)
               values (?, ?, ?, ?, now(), ?, ?, ?)""",
            [
                athlete_id,
                got.cursor_epoch,
                resume_after,
                resume_page,
                result.status,
                result.message or None,
                result.requests,
            ],
        )
        result.pending = con.execute("select count(*) from fetch_queue where athlete_id = ?", [athlete_id]).fetchall()[
            0
        ][0]
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def registered_athletes(con: duckdb.DuckDBPyConnection, athlete_id: int | None = None) -> list[int]:
    sql = "select athlete_id from athletes"
    params: list[object] = []
    if athlete_id is not None:
        sql += " where athlete_id = ?"
        params.append(athlete_id)
    return [r[0] for r in con.execute(sql + " order by athlete_id", params).fetchall()]


@contextlib.contextmanager
def sync_lock(settings: Settings, wait_s: float) -> Iterator[None]:
    """Only one sync at a time: two would spend the same rate limit on the same data."""
    with file_lock(
        settings.home / "sync.lock", wait_s, "another `backstride sync` is running; try again when it finishes"
    ):
        yield


def sync_athlete(
    settings: Settings,
    athlete_id: int,
    full: bool = False,
    budget: Budget | None = None,
    ingest: bool = True,
    publish: bool = True,
) -> SyncResult:
    """Sync one athlete; never raises for Strava trouble (it is reported in the result)."""
    result = SyncResult(athlete_id)
    budget = budget or Budget(settings.reserve_short, settings.reserve_daily)
    tokens = token_store.load_tokens(settings, athlete_id)
    if tokens is None:
        result.status, result.message = "needs_reauth", "no tokens stored: add the athlete again"
        _mark_reauth(settings, athlete_id, result)
        return result
    with writer(settings, publish=False) as con:
        state = _read_state(con, athlete_id)
    client = make_client(settings, tokens, budget)
    api = Api(client, settings, athlete_id, tokens, budget)
    lookback_start = int((datetime.now(UTC) - timedelta(weeks=settings.lookback_weeks)).timestamp())
    batch_id = f"{athlete_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    try:
        got = _fetch(api, athlete_id, state, full, lookback_start, result)
    except _Partial as partial:
        got = partial.fetched
        if isinstance(partial.cause, AuthRevoked):
            result.status = "needs_reauth"
        else:
            result.status = "deferred"
        result.message = _safe(settings, str(partial.cause))
    except AuthRevoked as err:
        got = _Fetched(cursor_epoch=state.cursor_epoch, paging_done=state.resume_after is None)
        result.status, result.message = "needs_reauth", _safe(settings, str(err))
    except StravaError as err:
        got = _Fetched(cursor_epoch=state.cursor_epoch, paging_done=state.resume_after is None)
        result.status, result.message = "error", _safe(settings, str(err))
    result.requests = api.requests
    with writer(settings, publish=publish) as con:
        _write(con, athlete_id, batch_id, got, result)
        con.execute(
            "update athletes set needs_reauth = ? where athlete_id = ?", [result.status == "needs_reauth", athlete_id]
        )
        if ingest:
            ingest_pending(con)
    return result


def _mark_reauth(settings: Settings, athlete_id: int, result: SyncResult) -> None:
    with writer(settings) as con:
        con.execute("update athletes set needs_reauth = true where athlete_id = ?", [athlete_id])
        con.execute(
            """insert or replace into sync_state (athlete_id, cursor_epoch, resume_after, resume_page, last_sync_at,
               last_status, last_message, requests_used)
               select ?, cursor_epoch, resume_after, resume_page, now(), ?, ?, 0 from (select 1)
               left join sync_state on athlete_id = ?""",
            [athlete_id, result.status, result.message, athlete_id],
        )


def _safe(settings: Settings, text: str) -> str:
    return token_store.redact(text, token_store.known_secrets(settings))


def sync_all(
    settings: Settings,
    athlete_id: int | None = None,
    full: bool = False,
    progress: ProgressFn | None = None,
    wait_s: float = 600.0,
) -> list[SyncResult]:
    """Sync every registered athlete (or one). One rate-limit budget is shared by all."""
    with sync_lock(settings, wait_s):
        with writer(settings, publish=False) as con:
            ids = registered_athletes(con, athlete_id)
        if athlete_id is not None and not ids:
            raise LookupError(f"athlete {athlete_id} is not registered (see `backstride athletes list`)")
        budget = Budget(settings.reserve_short, settings.reserve_daily)
        results = []
        for athlete in ids:
            if progress:
                progress(athlete, "syncing")
            if budget.exhausted():
                result = SyncResult(athlete, "deferred", message=budget.exhausted() or "")
                results.append(result)
                continue
            results.append(sync_athlete(settings, athlete, full=full, budget=budget, publish=False))
        with write_lock(settings):
            publish_replica(settings)
        if progress:
            progress(-1, "done")
        return results


# --- single activities (webhook events) and athlete removal ------------------------------


def fetch_activity(settings: Settings, athlete_id: int, activity_id: int) -> SyncResult:
    """Fetch one created or updated activity (detail, and streams for a recent run) and ingest it."""
    result = SyncResult(athlete_id)
    tokens = token_store.load_tokens(settings, athlete_id)
    if tokens is None:
        result.status, result.message = "needs_reauth", "no tokens stored"
        return result
    budget = Budget(settings.reserve_short, settings.reserve_daily)
    api = Api(make_client(settings, tokens, budget), settings, athlete_id, tokens, budget)
    got = _Fetched()
    lookback_start = int((datetime.now(UTC) - timedelta(weeks=settings.lookback_weeks)).timestamp())
    try:
        detail = api.get(f"/activities/{activity_id}", include_all_efforts=False)
        got.items.append(LandingItem.from_text("activity_detail", activity_id, api.last_text))
        result.details = result.new_activities = 1
        start = _epoch(detail.get("start_date")) if isinstance(detail, dict) else None
        sport = (detail.get("sport_type") or detail.get("type")) if isinstance(detail, dict) else None
        if sport in RUN_TYPES and (start or 0) >= lookback_start:
            api.get(f"/activities/{activity_id}/streams", keys=STREAM_KEYS, key_by_type=True)
            got.items.append(LandingItem.from_text("streams", activity_id, api.last_text))
            result.streams = 1
    except MalformedPayload as bad:
        got.items.append(LandingItem.malformed("activity_detail", activity_id, bad.raw_text, str(bad)))
        result.status, result.message = "error", str(bad)
    except Deferred as err:
        got.enqueue[(activity_id, "detail")] = 0
        result.status, result.message = "deferred", _safe(settings, str(err))
    except AuthRevoked as err:
        result.status, result.message = "needs_reauth", _safe(settings, str(err))
    except StravaError as err:
        result.status, result.message = "error", _safe(settings, str(err))
    except Exception as err:
        if type(err).__name__ != "ObjectNotFound":
            raise
        result.status, result.message = "error", "activity not found on Strava"
    result.requests = api.requests
    batch_id = f"{athlete_id}-event-{activity_id}-{uuid.uuid4().hex[:6]}"
    with writer(settings) as con:
        if got.items:  # Strava has it after all: it is not deleted
            con.execute("delete from deleted_activities where activity_id = ?", [activity_id])
        land(con, athlete_id, batch_id, got.items)
        if got.enqueue:
            con.executemany(
                "insert or ignore into fetch_queue (athlete_id, activity_id, kind) values (?, ?, ?)",
                [[athlete_id, a, k] for (a, k) in got.enqueue],
            )
        ingest_pending(con)
    return result


def delete_activity(settings: Settings, athlete_id: int, activity_id: int) -> int:
    """Delete an activity the athlete deleted on Strava; a tombstone stops it coming back."""
    with writer(settings) as con:
        con.execute("begin")
        con.execute(
            "insert or ignore into deleted_activities (activity_id, athlete_id) values (?, ?)",
            [activity_id, athlete_id],
        )
        removed = 0
        for table in ("activities", "splits", "stream_features", "fetch_queue"):
            removed += con.execute(
                f"delete from {table} where activity_id = ? and athlete_id = ?", [activity_id, athlete_id]
            ).fetchall()[0][0]
        con.execute("commit")
    return removed


def remove_athlete(settings: Settings, athlete_id: int) -> dict[str, int]:
    """Delete every row of an athlete from every table, their tokens and outbox files."""
    with writer(settings) as con:
        deleted = delete_athlete_rows(con, athlete_id)
    compact(settings)  # deleted rows would otherwise stay readable in the file's blocks
    deleted["tokens"] = int(token_store.delete_tokens(settings, athlete_id))
    outbox = settings.outbox_dir
    files = 0
    if outbox.exists():
        for path in outbox.glob(f"*/{int(athlete_id)}.*"):
            path.unlink()
            files += 1
        for path in outbox.glob(f"*/{int(athlete_id)}-*"):
            path.unlink()
            files += 1
    deleted["outbox_files"] = files
    return deleted


# --- registration -------------------------------------------------------------------------


def register_athlete(
    settings: Settings,
    refresh_token: str,
    email: str,
    timezone: str | None = None,
    tokens: token_store.Tokens | None = None,
) -> tuple[int, str]:
    """Refresh the token, read the profile and shoes, store tokens and register the athlete.

    Returns (athlete_id, display name).
    """
    tokens = tokens or token_store.Tokens(None, refresh_token, 0)
    budget = Budget(settings.reserve_short, settings.reserve_daily)
    client = make_client(settings, tokens, budget)
    tokens = ensure_fresh(client, settings, None, tokens, force=tokens.access_token is None)
    api = Api(client, settings, None, tokens, budget)
    profile = api.get("/athlete")
    if not isinstance(profile, dict) or not isinstance(profile.get("id"), int):
        raise StravaError("the athlete profile from Strava has no id")
    athlete_id = int(profile["id"])
    token_store.save_tokens(settings, athlete_id, api.tokens)
    api.athlete_id = athlete_id  # from here on every refresh is saved at once
    items = [LandingItem.from_text("athlete", athlete_id, api.last_text)]
    for shoe in profile.get("shoes") or []:
        if isinstance(shoe, dict) and shoe.get("id"):
            api.get(f"/gear/{shoe['id']}")
            items.append(LandingItem.from_text("gear", shoe["id"], api.last_text))
    tz = timezone or _zone_from_strava(profile.get("timezone")) or "UTC"
    batch_id = f"{athlete_id}-register-{uuid.uuid4().hex[:6]}"
    with writer(settings) as con:
        con.execute(
            """insert into athletes (athlete_id, email, timezone) values (?, ?, ?)
               on conflict (athlete_id) do update set email = excluded.email, timezone = excluded.timezone,
               needs_reauth = false""",
            [athlete_id, email, tz],
        )
        land(con, athlete_id, batch_id, items)
        ingest_pending(con)
    name = " ".join(str(profile.get(k) or "") for k in ("firstname", "lastname")).strip()
    return athlete_id, name or str(athlete_id)


def _zone_from_strava(value: object) -> str | None:
    """Strava writes zones like "(GMT+01:00) Europe/Berlin"."""
    if isinstance(value, str) and value.strip():
        return value.split(")")[-1].strip() or None
    return None
