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
shares one budget between athletes in two passes (see there): every athlete's newest week
first, then everyone's backlog in turns.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from pipeline import tokens as token_store
from pipeline.config import Settings
from pipeline.loading import RUN_TYPES, IngestReport, LandingItem, ingest_pending, land, merge_frame
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
# While an athlete still has fetches queued (onboarding), their listing is re-read at most this
# often: every re-read is a request taken from the backlog (webhooks bring new activities anyway).
RELIST_WHILE_BACKLOG_S = 12 * 3600
# Second pass of `sync_all`: requests per athlete per turn when several athletes wait.
TURN_REQUESTS = 20
WEEK_S = 7 * 86400

Clock = Callable[[], float]


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
    pending: int = 0  # queued fetches (details, streams, profile, gear) left for next time
    gear: int = 0  # gear bodies fetched (or recorded missing)
    more: bool = field(default=False, repr=False)  # work this run could still do (queue or paging)
    turned_over: bool = field(default=False, repr=False)  # stopped at its turn's request cap
    failed_keys: set[tuple[int, str]] = field(default_factory=set, repr=False)  # not retried this run

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

    def absorb(self, later: SyncResult) -> None:
        """Add a later turn of the same athlete in the same run."""
        for name in ("new_activities", "details", "streams", "requests", "landed", "gear"):
            setattr(self, name, getattr(self, name) + getattr(later, name))
        self.status, self.message, self.pending = later.status, later.message, later.pending
        self.more, self.turned_over = later.more, later.turned_over
        self.failed_keys |= later.failed_keys


@dataclass
class _Item:
    """One queued fetch."""

    activity_id: int
    kind: str  # detail | streams | profile | gear
    attempts: int = 0
    start: int | None = None  # activity start (epoch s)
    object_id: str | None = None  # gear id

    @property
    def key(self) -> tuple[int, str]:
        return (self.activity_id, self.kind)


@dataclass
class _State:
    cursor_epoch: int | None
    resume_after: int | None
    resume_page: int | None
    resume_before: int | None
    listed_epoch: int | None
    profile_epoch: int | None  # when the newest profile was fetched
    newest_start: int | None  # newest activity start in the warehouse
    wanted_gear: list[str]  # gear ids referenced with no body, not missing, not given up (all with --full)
    missing_gear: set[str]
    landed_gear: set[str]  # a body (or a failed fetch, or a 404) was landed
    detailed: set[int]
    streamed: set[int]
    queue: list[_Item]
    known: dict[int, tuple]  # activity_id -> signature of the stored version
    timezone: str


def gear_queue_key(gear_id: str) -> int:
    """The fetch_queue `activity_id` of a gear fetch: negative, so it never meets an activity id."""
    return -int(hashlib.md5(str(gear_id).encode(), usedforsecurity=False).hexdigest()[:15], 16) - 1


def _gear_id(value: object) -> str | None:
    """Strava's gear ids are text; some payloads carry a number."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    return str(value)


def signature(summary: dict) -> tuple:
    """The summary fields whose change means an activity was edited on Strava."""
    distance = summary.get("distance")
    return (
        summary.get("name"),
        summary.get("sport_type") or summary.get("type"),
        round(float(distance), 1) if isinstance(distance, int | float) else None,
        summary.get("moving_time"),
        _gear_id(summary.get("gear_id")),
    )


@dataclass
class _Fetched:
    items: list[LandingItem] = field(default_factory=list)
    enqueue: dict[tuple[int, str], tuple[int | None, str | None]] = field(default_factory=dict)  # -> start, object
    dequeue: set[tuple[int, str]] = field(default_factory=set)
    failed: set[tuple[int, str]] = field(default_factory=set)
    cursor_epoch: int | None = None
    paging_done: bool = False
    resume_after: int | None = None
    resume_page: int | None = None
    resume_before: int | None = None
    listed: bool = False  # a listing completed in this call
    served: bool = False  # the athlete's backlog had a turn in this call


ProgressFn = Callable[[int, str], None]


def _epoch(value: object) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _read_state(con: duckdb.DuckDBPyConnection, athlete_id: int, full: bool = False) -> _State:
    row = con.execute(
        """select cursor_epoch, resume_after, resume_page, resume_before, listed_epoch
           from sync_state where athlete_id = ?""",
        [athlete_id],
    ).fetchall()
    cursor, resume_after, resume_page, resume_before, listed = row[0] if row else (None,) * 5
    profile_epoch = con.execute(
        """select epoch(max(fetched_at))::bigint from landing
           where athlete_id = ? and endpoint = 'athlete' and parse_error is null""",
        [athlete_id],
    ).fetchall()[0][0]
    newest_start, zone = con.execute(
        """select (select epoch(max(start_date))::bigint from activities where athlete_id = $1),
                  (select timezone from athletes where athlete_id = $1)""",
        [athlete_id],
    ).fetchall()[0]
    # Gear the rules need: referenced by the athlete's activities (stored or held in quarantine,
    # e.g. by run_gear_exists) or listed in the profile, with no body landed, not recorded
    # missing (404) and not given up (a failed fetch landed and no longer queued).
    refs = con.execute(
        """with refs as (
               select gear_id::varchar as gear_id from activities where athlete_id = $1 and gear_id is not null
               union select row_json->>'gear_id' from quarantine
               where table_name = 'activities' and athlete_id = $1 and released_at is null
                 and superseded_by is null and row_json->>'gear_id' is not null
               union select gear_id from gear where athlete_id = $1 and not missing)
           select gear_id from refs where gear_id <> '' order by gear_id""",
        [athlete_id],
    ).fetchall()
    landed = con.execute(
        """select distinct endpoint, object_id from landing
           where athlete_id = ? and endpoint in ('gear', 'gear_missing') and object_id is not null""",
        [athlete_id],
    ).fetchall()
    missing = {o for e, o in landed if e == "gear_missing"}
    landed_gear = {o for _, o in landed}
    # with --full every shoe's body is read again (running totals), except those Strava does not know
    wanted = [g for (g,) in refs if g not in (missing if full else landed_gear)]
    fetched = con.execute(
        """select endpoint, try_cast(object_id as bigint) from landing
           where athlete_id = ? and endpoint in ('activity_detail', 'streams') and parse_error is null""",
        [athlete_id],
    ).fetchall()
    queue = con.execute(
        """select q.activity_id, q.kind, q.attempts, coalesce(q.start_epoch, epoch(a.start_date)::bigint), q.object_id
           from fetch_queue q left join activities a using (activity_id)
           where q.athlete_id = ? order by 4 desc nulls last, q.activity_id desc""",
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
        resume_before=resume_before,
        listed_epoch=listed,
        profile_epoch=profile_epoch,
        newest_start=newest_start,
        wanted_gear=wanted,
        missing_gear=missing,
        landed_gear=landed_gear,
        detailed={i for e, i in fetched if e == "activity_detail"},
        streamed={i for e, i in fetched if e == "streams"},
        queue=[_Item(int(a), k, int(n), None if t is None else int(t), o) for a, k, n, t, o in queue],
        timezone=zone or "UTC",
    )


def urgent_start(now: float, timezone: str) -> int:
    """Start (epoch s) of the athlete's last complete local ISO week: its runs are the 'newest
    week' work, fetched for every athlete before anybody's history or the days since."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    today = datetime.fromtimestamp(now, zone).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return int(datetime.combine(monday, dt_time(), tzinfo=zone).timestamp())


class _TurnOver(Deferred):
    """This athlete's turn is over (its request cap is reached); others go next."""


@dataclass
class _Plan:
    """What one call of `_fetch` may do."""

    stage: str = "all"  # first: listing + newest week + profile and gear | rest: the backlog | all
    full: bool = False
    now: float = 0.0
    lookback_start: int = 0
    urgent_start: int = 0
    cap: int | None = None  # at most this many requests (a turn of the second pass)
    exclude: set[tuple[int, str]] = field(default_factory=set)  # failed earlier in this run


def _fetch(api: Api, athlete_id: int, state: _State, plan: _Plan, result: SyncResult) -> _Fetched:
    """All the HTTP work for one athlete; returns what to land and how far it got."""
    got = _Fetched(cursor_epoch=state.cursor_epoch)

    def spend() -> None:
        if plan.cap is not None and api.requests >= plan.cap:
            raise _TurnOver("turn over")

    queue = {item.key: item for item in state.queue}
    newest = state.cursor_epoch or 0
    changed: list[dict] = []
    stopped: Deferred | None = None
    # 1. list activities. A first listing (and --full) pages newest first, so that the newest
    # week is known after one page; later listings page oldest first from the cursor (with an
    # overlap). A paging in progress resumes where it stopped.
    resuming = state.resume_after is not None and not plan.full
    newest_first = (state.resume_before is not None) if resuming else (plan.full or state.cursor_epoch is None)
    backlog = bool(state.queue or state.wanted_gear)
    recently = state.listed_epoch is not None and state.listed_epoch >= plan.now - RELIST_WHILE_BACKLOG_S
    if resuming:
        # an oldest-first paging in progress holds the newest activities; a newest-first one
        # holds older pages (backlog), which the first stage leaves for later
        list_now = not (newest_first and plan.stage == "first")
    else:
        list_now = plan.stage != "rest" and (plan.full or not (backlog and recently))
    if list_now:
        if resuming:
            after, page, before = state.resume_after, state.resume_page or 1, state.resume_before
        elif newest_first:
            after, page, before = 0, 1, int(plan.now) + 1
        else:
            after, page, before = max(0, (state.cursor_epoch or 0) - CURSOR_OVERLAP_S), 1, None
        got.resume_after, got.resume_page, got.resume_before = after, page, before
        seen_ids: set[int] = set()
        try:
            while True:
                spend()
                params = {"after": after, "page": page, "per_page": PAGE_SIZE}
                if before is not None:
                    params["before"] = before
                try:
                    body = api.get("/athlete/activities", **params)
                except MalformedPayload as bad:
                    got.items.append(LandingItem.malformed("activities_page", "list", bad.raw_text, str(bad)))
                    raise Deferred(f"activity list page {page} was not valid JSON; will retry next run") from None
                if body != []:  # an empty page carries nothing worth keeping
                    got.items.append(LandingItem.from_text("activities_page", "list", api.last_text))
                if not isinstance(body, list):
                    raise Deferred(f"activity list page {page} was not a list; will retry next run")
                oldest_on_page: int | None = None
                for summary in body:
                    activity_id = summary.get("id") if isinstance(summary, dict) else None
                    # ids that are not positive 64-bit integers are quarantined by ingestion
                    if not isinstance(activity_id, int) or isinstance(activity_id, bool) or not 0 < activity_id < 2**63:
                        log.warning(
                            "athlete %s: an activity summary without a numeric id (kept in landing)", athlete_id
                        )
                        continue
                    start = _epoch(summary.get("start_date")) or 0
                    oldest_on_page = start if oldest_on_page is None else min(oldest_on_page, start)
                    if activity_id in seen_ids:
                        continue
                    seen_ids.add(activity_id)
                    if state.known.get(activity_id) == signature(summary) and not plan.full:
                        continue  # re-read through the cursor overlap, unchanged
                    changed.append(summary)
                    newest = max(newest, start)
                page += 1
                got.resume_page = page
                if newest_first:  # the cursor may move at once: the newest activities came first
                    got.cursor_epoch = max(newest, got.cursor_epoch or 0) or None
                if len(body) < PAGE_SIZE:
                    got.paging_done = got.listed = True
                    break
                if newest_first and plan.stage == "first" and (oldest_on_page or 0) < plan.urgent_start:
                    break  # the newest week is listed: older pages are backlog, after every athlete's newest week
        except Deferred as err:
            stopped = err
        else:
            if got.paging_done:
                got.cursor_epoch = newest or state.cursor_epoch
    else:
        got.resume_after, got.resume_page, got.resume_before = (
            state.resume_after,
            state.resume_page,
            state.resume_before,
        )
        got.paging_done = state.resume_after is None
    result.new_activities = len(changed)

    # 2. queue details and streams for runs inside the lookback window, the gear they use
    # and the profile (shoes with their running totals) when it is missing or older than an activity
    def enqueue(activity_id: int, kind: str, start: int | None = None, object_id: str | None = None) -> None:
        key = (activity_id, kind)
        if key not in queue:
            queue[key] = _Item(activity_id, kind, 0, start, object_id)
            got.enqueue[key] = (start, object_id)

    for summary in changed:
        activity_id = summary["id"]
        start = _epoch(summary.get("start_date")) or 0
        sport = summary.get("sport_type") or summary.get("type")
        if sport in RUN_TYPES and start >= plan.lookback_start:
            if activity_id not in state.detailed or activity_id in state.known:
                enqueue(activity_id, "detail", start)
            if activity_id not in state.streamed:
                enqueue(activity_id, "streams", start)
    gear_ids = list(state.wanted_gear) if plan.stage != "rest" or not plan.full else []
    for summary in changed:
        gear_id = _gear_id(summary.get("gear_id"))
        if gear_id and gear_id not in state.landed_gear:
            gear_ids.append(gear_id)
    for gear_id in gear_ids:
        enqueue(gear_queue_key(gear_id), "gear", None, gear_id)
    newest_activity = max([state.newest_start or 0] + [_epoch(s.get("start_date")) or 0 for s in changed])
    if plan.full or state.profile_epoch is None or newest_activity > state.profile_epoch:
        enqueue(athlete_id, "profile")
    if stopped is not None:
        raise _Partial(got, stopped)

    # 3. fetch the queue: profile and gear first (cheap, and the shoe rules need them), then
    # details and streams newest first; the first stage takes only the last complete week's (the
    # one the weekly email is about; the days since come first in the backlog)
    def rank(item: _Item) -> tuple:
        return (item.kind not in ("profile", "gear"), -(item.start or 0), -item.activity_id)

    def wanted_now(item: _Item) -> bool:
        if item.key in plan.exclude:
            return False
        if plan.stage != "first" or item.kind in ("profile", "gear"):
            return True
        return plan.urgent_start <= (item.start or 0) < plan.urgent_start + WEEK_S

    if plan.stage == "rest" or (plan.stage == "all" and queue):
        got.served = True
    for item in sorted((i for i in queue.values() if wanted_now(i)), key=rank):
        try:
            spend()
            _fetch_item(api, athlete_id, item, got, result)
        except StravaError as err:
            if isinstance(err, (Deferred, AuthRevoked)):
                raise _Partial(got, err) from None
            log.warning("%s %s: fetch failed: %s", item.kind, item.object_id or item.activity_id, err)
            got.failed.add(item.key)
            if item.kind == "gear":  # landed, so that a shoe given up on is not queued again
                got.items.append(LandingItem.malformed("gear", item.object_id, "", str(err)))
    return got


def _fetch_item(api: Api, athlete_id: int, item: _Item, got: _Fetched, result: SyncResult) -> None:
    """One queued fetch; lands the body and records the outcome in `got`."""
    endpoint = {"detail": "activity_detail", "streams": "streams", "profile": "athlete", "gear": "gear"}[item.kind]
    object_id: object = item.object_id if item.kind == "gear" else item.activity_id
    try:
        if item.kind == "detail":
            api.get(f"/activities/{item.activity_id}", include_all_efforts=False)
            result.details += 1
        elif item.kind == "streams":
            api.get(f"/activities/{item.activity_id}/streams", keys=STREAM_KEYS, key_by_type=True)
            result.streams += 1
        elif item.kind == "profile":
            api.get("/athlete")  # its shoes become gear rows; bodies of new ones are queued next time
            object_id = athlete_id
        else:
            api.get(f"/gear/{quote(str(item.object_id), safe='')}")
            result.gear += 1
        got.items.append(LandingItem.from_text(endpoint, object_id, api.last_text))
        got.dequeue.add(item.key)
    except MalformedPayload as bad:
        got.items.append(LandingItem.malformed(endpoint, object_id, bad.raw_text, str(bad)))
        log.warning("%s %s: body was not valid JSON; kept in landing", item.kind, object_id)
        got.failed.add(item.key)
    except Exception as err:
        if type(err).__name__ != "ObjectNotFound":  # stravalib's 404
            raise
        got.dequeue.add(item.key)
        if item.kind == "gear":
            log.info("gear %s: not found on Strava (404); recorded as missing", item.object_id)
            got.items.append(
                LandingItem.from_json("gear_missing", item.object_id, {"status": 404, "gear_id": item.object_id})
            )
            result.gear += 1
        else:
            log.info("%s %s: gone from Strava (404); dropped from the queue", item.kind, object_id)


class _Partial(Exception):
    """Fetching stopped early; carries what was fetched so far."""

    def __init__(self, fetched: _Fetched, cause: StravaError | None = None) -> None:
        super().__init__(str(cause) if cause else "deferred")
        self.fetched = fetched
        self.cause = cause or Deferred("rate limit")


def _write(
    con: duckdb.DuckDBPyConnection, athlete_id: int, batch_id: str, got: _Fetched, result: SyncResult, now: float
) -> None:
    """Land payloads and record progress in one transaction."""
    con.execute("begin")
    try:
        result.landed = land(con, athlete_id, batch_id, got.items)
        if got.enqueue:
            con.executemany(
                """insert or ignore into fetch_queue (athlete_id, activity_id, kind, start_epoch, object_id)
                   values (?, ?, ?, ?, ?)""",
                [[athlete_id, a, k, start, obj] for (a, k), (start, obj) in got.enqueue.items()],
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
        resume_before = None if got.paging_done else got.resume_before
        con.execute(
            """insert or replace into sync_state
               (athlete_id, cursor_epoch, resume_after, resume_page, last_sync_at, last_status, last_message,
                requests_used, resume_before, listed_epoch, backlog_served_epoch)
               select $1, $2, $3, $4, now(), $5, $6, $7, $8,
                      case when $9 then $11 else (select listed_epoch from sync_state where athlete_id = $1) end,
                      case when $10 then $11 else (select backlog_served_epoch from sync_state where athlete_id = $1) end""",
            [
                athlete_id,
                got.cursor_epoch,
                resume_after,
                resume_page,
                result.status,
                result.message or None,
                result.requests,
                resume_before,
                got.listed,
                got.served,
                int(now),
            ],
        )
        result.pending = con.execute("select count(*) from fetch_queue where athlete_id = ?", [athlete_id]).fetchall()[
            0
        ][0]
        result.more = bool(result.pending) or resume_after is not None
        result.failed_keys |= got.failed
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
    *,
    stage: str = "all",
    cap: int | None = None,
    exclude: set[tuple[int, str]] | None = None,
    clock: Clock = time.time,
) -> SyncResult:
    """Sync one athlete; never raises for Strava trouble (it is reported in the result).

    `stage` "first" lists and fetches only the newest week, the profile and gear; "rest" works
    through the backlog (older pages, older runs), at most `cap` requests; "all" does both.
    `clock` is "now" in epoch seconds (the lookback window, the newest week, turn order).
    """
    result = SyncResult(athlete_id)
    budget = budget or Budget(settings.reserve_short, settings.reserve_daily)
    tokens = token_store.load_tokens(settings, athlete_id)
    if tokens is None:
        result.status, result.message = "needs_reauth", "no tokens stored: add the athlete again"
        _mark_reauth(settings, athlete_id, result)
        return result
    with writer(settings, publish=False) as con:
        state = _read_state(con, athlete_id, full)
    now = clock()
    client = make_client(settings, tokens, budget)
    api = Api(client, settings, athlete_id, tokens, budget)
    plan = _Plan(
        stage=stage,
        full=full,
        now=now,
        lookback_start=int(now - timedelta(weeks=settings.lookback_weeks).total_seconds()),
        urgent_start=urgent_start(now, state.timezone),
        cap=cap,
        exclude=exclude or set(),
    )
    batch_id = f"{athlete_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    try:
        got = _fetch(api, athlete_id, state, plan, result)
    except _Partial as partial:
        got = partial.fetched
        if isinstance(partial.cause, _TurnOver):
            result.turned_over = True
        elif isinstance(partial.cause, AuthRevoked):
            result.status = "needs_reauth"
        else:
            result.status = "deferred"
        if not result.turned_over:
            result.message = _safe(settings, str(partial.cause))
    except AuthRevoked as err:
        got = _unchanged(state)
        result.status, result.message = "needs_reauth", _safe(settings, str(err))
    except StravaError as err:
        got = _unchanged(state)
        result.status, result.message = "error", _safe(settings, str(err))
    result.requests = api.requests
    idle = not (api.requests or got.items or got.enqueue or got.dequeue or got.failed)
    if idle and result.status == "ok" and not ingest:  # a turn with nothing to do: nothing to record
        result.pending = len(state.queue)
        result.more = bool(state.queue) or state.resume_after is not None
        return result
    with writer(settings, publish=publish) as con:
        _write(con, athlete_id, batch_id, got, result, now)
        con.execute(
            "update athletes set needs_reauth = ? where athlete_id = ?", [result.status == "needs_reauth", athlete_id]
        )
        if ingest:
            ingest_and_release(con)
    return result


def _unchanged(state: _State) -> _Fetched:
    """Nothing fetched: keep the cursor and any paging in progress as they were."""
    return _Fetched(
        cursor_epoch=state.cursor_epoch,
        paging_done=state.resume_after is None,
        resume_after=state.resume_after,
        resume_page=state.resume_page,
        resume_before=state.resume_before,
    )


def ingest_and_release(con: duckdb.DuckDBPyConnection) -> IngestReport:
    """Ingest what was landed; when gear arrived, re-check the quarantine, so that runs held
    back only for their shoe (`run_gear_exists`), and their splits, are released at once."""
    report = ingest_pending(con)
    if report.rows_merged.get("gear"):
        from pipeline.validation import retry_quarantine

        released = retry_quarantine(con, merge_frame)
        report.released += sum(released.values())
    return report


def _mark_reauth(settings: Settings, athlete_id: int, result: SyncResult) -> None:
    with writer(settings) as con:
        con.execute("update athletes set needs_reauth = true where athlete_id = ?", [athlete_id])
        con.execute(
            """insert or replace into sync_state (athlete_id, cursor_epoch, resume_after, resume_page, last_sync_at,
               last_status, last_message, requests_used, resume_before, listed_epoch, backlog_served_epoch)
               select ?, cursor_epoch, resume_after, resume_page, now(), ?, ?, 0, resume_before, listed_epoch,
                      backlog_served_epoch
               from (select 1) left join sync_state on athlete_id = ?""",
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
    clock: Clock = time.time,
) -> list[SyncResult]:
    """Sync every registered athlete (or one). One rate-limit budget is shared by all.

    Two passes, so that on one application's quota every athlete gets their newest week before
    any athlete's history and nobody starves: first, for each athlete (longest unsynced first),
    the listing (one page for a new athlete), the newest week's details and streams, the profile
    and gear; then the backlog (older pages, older runs), round-robin in turns of
    `TURN_REQUESTS`, the athletes whose backlog waited longest first. Whatever the budget does
    not cover stays queued, and the next run goes on from there.
    """
    with sync_lock(settings, wait_s):
        with writer(settings, publish=False) as con:
            ids = registered_athletes(con, athlete_id)
            if athlete_id is not None and not ids:
                raise LookupError(f"athlete {athlete_id} is not registered (see `backstride athletes list`)")
            first_order = _order(con, ids, "last_sync_at")
        budget = Budget(settings.reserve_short, settings.reserve_daily)
        results: dict[int, SyncResult] = {}
        for athlete in first_order:
            if progress:
                progress(athlete, "syncing")
            if budget.exhausted():
                results[athlete] = SyncResult(athlete, "deferred", message=budget.exhausted() or "")
                continue
            results[athlete] = sync_athlete(
                settings, athlete, full=full, budget=budget, ingest=False, publish=False, stage="first", clock=clock
            )
        waiting = [a for a in first_order if results[a].status == "ok" and results[a].more]
        if waiting:
            with writer(settings, publish=False) as con:
                waiting = _order(con, waiting, "backlog_served_epoch")
        while waiting and not budget.exhausted():
            cap = TURN_REQUESTS if len(waiting) > 1 else None
            again = []
            for athlete in waiting:
                if budget.exhausted():
                    again.append(athlete)
                    continue
                turn = sync_athlete(
                    settings,
                    athlete,
                    full=full,
                    budget=budget,
                    ingest=False,
                    publish=False,
                    stage="rest",
                    cap=cap,
                    exclude=results[athlete].failed_keys,
                    clock=clock,
                )
                results[athlete].absorb(turn)
                if turn.status == "ok" and turn.turned_over:
                    again.append(athlete)
            waiting = again
        reason = budget.exhausted()
        with writer(settings, publish=False) as con:
            if reason:  # work left because the budget is spent: say so (the digest reads it)
                for result in results.values():
                    if result.status == "ok" and result.more:
                        result.status, result.message = "deferred", reason
                        con.execute(
                            "update sync_state set last_status = 'deferred', last_message = ? where athlete_id = ?",
                            [reason, result.athlete_id],
                        )
            ingest_and_release(con)
        with write_lock(settings):
            publish_replica(settings)
        if progress:
            progress(-1, "done")
        return [results[a] for a in ids]


def _order(con: duckdb.DuckDBPyConnection, ids: list[int], column: str) -> list[int]:
    """Athletes by `sync_state.<column>`, never or longest ago first, then by id."""
    if not ids:
        return []
    rows = con.execute(
        f"""select a.athlete_id from (select unnest(?::bigint[]) as athlete_id) a
            left join sync_state s using (athlete_id)
            order by s.{column} nulls first, a.athlete_id""",
        [ids],
    ).fetchall()
    return [r[0] for r in rows]


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
        got.enqueue[(activity_id, "detail")] = (None, None)
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
        ingest_and_release(con)
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
    """Refresh the token, read the profile (with its shoes), store tokens and register the athlete.

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
    # The profile lists the shoes (they become gear rows); their bodies (brand, model) and any
    # shoe seen only on activities are queued for the first sync, which has the rate-limit budget.
    items = [LandingItem.from_text("athlete", athlete_id, api.last_text)]
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
