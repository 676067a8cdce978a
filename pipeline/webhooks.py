"""Strava webhook events: the receiver, its durable inbox, event processing, subscriptions.

Strava POSTs an event (no activity data, just ids) and wants a 200 within 2 s; it retries
up to three times, so an event may arrive more than once and in any order. The receiver
therefore only checks the event's shape, appends it to a fsync'd JSONL inbox under
`settings.inbox_dir` (which never needs the warehouse write lock) and answers. Later,
`process_inbox` (run by the `strava_events` DAG or `backstride webhook process`) turns the
inbox into fetches and deletions through `pipeline.sync`, once per event.

After answering, the receiver tells Airflow that new events are waiting by recording an
asset event over Airflow's REST API, when `BACKSTRIDE_AIRFLOW_URL`, `_USER` and `_PASSWORD`
are set. If Airflow is down the events simply wait in the inbox for the next run.

This module imports only the standard library at import time: the DAG files import the
asset names from here and must parse fast. FastAPI, uvicorn, requests and stravalib are
imported where they are used.
"""

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from fastapi import FastAPI

log = logging.getLogger(__name__)

# The Airflow asset the receiver updates and `strava_events` is scheduled on.
WEBHOOK_ASSET_NAME = "strava_webhook_events"
WEBHOOK_ASSET_URI = "backstride://strava/webhook_events"

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 32  # nesting of arrays/objects in a body; Strava's events have 2
WEBHOOK_PATH = "/webhook"
SUBSCRIPTION_FILE = "webhook_subscription.json"
# An event whose fetch keeps failing is retried this many times, then dropped as failed.
MAX_ATTEMPTS = 5

OBJECT_TYPES = frozenset({"activity", "athlete"})
ASPECT_TYPES = frozenset({"create", "update", "delete"})
_INT_FIELDS = ("object_id", "owner_id", "subscription_id", "event_time")

WEBHOOK_EVENTS_DDL = """
    create table if not exists webhook_events (
        dedupe_key      varchar primary key,   -- sha256 of object_type, object_id, aspect_type, event_time, updates
        athlete_id      bigint not null,       -- owner_id: athlete removal deletes these rows too
        object_type     varchar not null,      -- activity | athlete
        object_id       bigint not null,
        aspect_type     varchar not null,      -- create | update | delete
        event_time      bigint not null,       -- epoch s, as Strava sent it
        updates         json,
        subscription_id bigint,
        outcome         varchar not null,      -- fetched | queued | needs_reauth | deleted | superseded | ignored
        processed_at    timestamptz not null default now()
    )"""


class EventError(ValueError):
    """An event the receiver must refuse, with the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebhookEvent:
    """One Strava push event, as validated by the receiver."""

    object_type: str
    object_id: int
    aspect_type: str
    owner_id: int
    subscription_id: int
    event_time: int
    updates: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """Same event delivered twice -> same key (Strava retries; ids are not unique per delivery)."""
        canonical = json.dumps(
            [
                self.object_type,
                self.object_id,
                self.aspect_type,
                self.event_time,
                self.updates,
            ],
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()

    @property
    def is_deauthorization(self) -> bool:
        return self.object_type == "athlete" and str(self.updates.get("authorized", "")).lower() == "false"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_event(raw: Any) -> WebhookEvent:
    """Check an event's shape; raise EventError(400) naming what is wrong."""
    if not isinstance(raw, dict):
        raise EventError(400, "event must be a JSON object")
    missing = [f for f in ("object_type", "aspect_type", *_INT_FIELDS) if f not in raw]
    if missing:
        raise EventError(400, f"missing fields: {', '.join(missing)}")
    ints: dict[str, int] = {}
    for name in _INT_FIELDS:
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise EventError(400, f"{name} must be a non-negative 64-bit integer")
        ints[name] = value
    if not isinstance(raw["object_type"], str) or raw["object_type"] not in OBJECT_TYPES:
        raise EventError(400, "object_type must be activity or athlete")
    if not isinstance(raw["aspect_type"], str) or raw["aspect_type"] not in ASPECT_TYPES:
        raise EventError(400, "aspect_type must be create, update or delete")
    updates = raw.get("updates") or {}
    if not isinstance(updates, dict):
        raise EventError(400, "updates must be an object")
    for key, value in updates.items():  # Strava sends a flat map of field name to new value
        if value is not None and not isinstance(value, str | int | float | bool):
            raise EventError(400, "updates must map field names to plain values (strings, numbers, booleans)")
        if isinstance(value, float) and not math.isfinite(value):
            raise EventError(400, "updates must not hold NaN or infinite numbers")
        if not _utf8(key) or (isinstance(value, str) and not _utf8(value)):
            raise EventError(400, "updates must be valid Unicode text (no lone surrogates)")
    return WebhookEvent(
        object_type=raw["object_type"],
        aspect_type=raw["aspect_type"],
        updates=updates,
        **ints,
    )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _nesting_depth(body: bytes) -> int:
    """How deep arrays and objects nest, counted outside strings (bytes are scanned once, no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def parse_body(body: bytes) -> WebhookEvent:
    """Parse a POST body into an event, or raise EventError with the 4xx to answer.

    413 over 64 KB; 400 when it is not UTF-8 JSON (NaN and Infinity included), nests deeper
    than MAX_DEPTH (a Strava event is two levels deep; Python's decoder would otherwise hit
    its recursion limit), holds a number too long to convert, or is not a well-formed event.
    """
    if len(body) > MAX_BODY_BYTES:
        raise EventError(413, f"body over {MAX_BODY_BYTES} bytes")
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH and _nesting_depth(body) > MAX_DEPTH:
        raise EventError(400, f"body nests deeper than {MAX_DEPTH} levels")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise EventError(400, "body is not UTF-8") from None
    try:
        raw = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, NaN/Infinity, ints over 4,300 digits
        raise EventError(400, "body is not valid JSON") from None
    return parse_event(raw)


def unsupported_content_type(header: str | None) -> str | None:
    """Why a Content-Type cannot hold an event (415), or None. A missing header is accepted.

    JSON is `application/json` (or `+json`) in UTF-8; Strava sends `application/json`.
    """
    if header is None or header.strip() == "":
        return None
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        return "content-type must be application/json"
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return "events must be UTF-8 JSON"
    return None


# --- subscription ids -------------------------------------------------------------------


def subscription_file(settings: Settings) -> Path:
    return settings.home / SUBSCRIPTION_FILE


def save_subscription_id(settings: Settings, subscription_id: int) -> None:
    """Remember the subscription `webhook subscribe` created, so the receiver accepts its events."""
    ids = sorted(set(read_subscription_ids(settings)) | {subscription_id})
    _write_json_atomic(subscription_file(settings), {"subscription_ids": ids})


def forget_subscription_id(settings: Settings, subscription_id: int) -> None:
    ids = sorted(set(read_subscription_ids(settings)) - {subscription_id})
    _write_json_atomic(subscription_file(settings), {"subscription_ids": ids})


def read_subscription_ids(settings: Settings, env: Mapping[str, str] | None = None) -> set[int]:
    """Known ids: the subscription file plus `STRAVA_SUBSCRIPTION_ID` (comma-separated) in `env`."""
    ids: set[int] = set()
    path = subscription_file(settings)
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            ids.update(int(i) for i in json.loads(path.read_text()).get("subscription_ids", []))
    for part in ((env or {}).get("STRAVA_SUBSCRIPTION_ID") or "").split(","):
        if part.strip():
            try:
                ids.add(int(part))
            except ValueError:
                raise ValueError(f"STRAVA_SUBSCRIPTION_ID must be comma-separated integers, not {part!r}") from None
    return ids


def _write_json_atomic(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


# --- the durable inbox ------------------------------------------------------------------


class Inbox:
    """Append-only JSONL of received events, fsync'd before the receiver answers.

    Writers and the processor share `inbox.lock` (flock). The processor claims the current
    file by renaming it to `pending-*.jsonl` under the lock, so appends never race a claim,
    and deletes a pending file only after its events are recorded as processed.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "events.jsonl"
        self.lock_path = directory / "inbox.lock"
        self.process_lock_path = directory / "process.lock"

    @contextlib.contextmanager
    def _locked(self, lock_path: Path) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def append(self, events: Iterable[dict[str, Any]]) -> None:
        """Write events as lines and fsync; returns only once they are on disk."""
        data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events).encode()
        if not data:
            return
        with self._locked(self.lock_path):
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:  # a regular file rarely takes less than all, but it may
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.directory)

    def pending_files(self) -> list[Path]:
        return sorted(self.directory.glob("pending-*.jsonl")) if self.directory.exists() else []

    def has_events(self) -> bool:
        """Cheap check for the DAG: is anything waiting? (no warehouse access)"""
        return bool(self.pending_files()) or (self.path.exists() and self.path.stat().st_size > 0)

    def claim(self) -> list[Path]:
        """Move the current file aside for processing; return every unprocessed file, oldest first."""
        with self._locked(self.lock_path):
            if self.path.exists() and self.path.stat().st_size > 0:
                os.replace(
                    self.path,
                    self.directory / f"pending-{time.time_ns():020d}-{os.getpid()}.jsonl",
                )
                _fsync_dir(self.directory)
        return self.pending_files()

    @contextlib.contextmanager
    def processing(self) -> Iterator[None]:
        """One processor at a time (a second one waits)."""
        with self._locked(self.process_lock_path):
            yield


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_inbox_files(
    files: Iterable[Path],
) -> tuple[list[tuple[WebhookEvent, int]], int]:
    """Events (with their retry count) in arrival order, and the number of unreadable lines."""
    events: list[tuple[WebhookEvent, int]] = []
    bad = 0
    for path in files:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                attempts = int(raw.pop("_attempts", 0)) if isinstance(raw, dict) else 0
                events.append((parse_event(raw), attempts))
            except (ValueError, TypeError):
                bad += 1  # a torn last line after a crash: the sender got no 200 and retries
    return events, bad


# --- processing -------------------------------------------------------------------------


@dataclass
class ProcessReport:
    """What one pass over the inbox did (counts of events, not of API requests)."""

    received: int = 0
    duplicates: int = 0
    fetched: int = 0
    deleted: int = 0
    superseded: int = 0
    queued: int = 0
    needs_reauth: int = 0
    athletes_removed: int = 0
    skipped_unknown_athlete: int = 0
    ignored: int = 0
    requeued: int = 0
    failed: int = 0
    unreadable: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return (
            self.fetched
            + self.deleted
            + self.superseded
            + self.queued
            + self.needs_reauth
            + self.athletes_removed
            + self.ignored
        )


@dataclass(frozen=True)
class SyncActions:
    """The pipeline functions events turn into (injectable for tests of ordering)."""

    fetch_activity: Callable[[Settings, int, int], Any]
    delete_activity: Callable[[Settings, int, int], Any]
    remove_athlete: Callable[[Settings, int], Any]

    @classmethod
    def from_pipeline(cls) -> "SyncActions":
        from pipeline import sync

        return cls(sync.fetch_activity, sync.delete_activity, sync.remove_athlete)


def ensure_events_table(con: "duckdb.DuckDBPyConnection") -> None:
    con.execute(WEBHOOK_EVENTS_DDL)


def _known_state(settings: Settings, events: list[WebhookEvent]) -> tuple[set[str], set[int], set[int]]:
    """Already-processed keys, activities already deleted, and registered athletes."""
    from pipeline.warehouse import writer

    keys = [e.dedupe_key for e in events]
    activity_ids = [e.object_id for e in events if e.object_type == "activity"]
    with writer(settings, publish=False) as con:
        ensure_events_table(con)
        done = {
            r[0]
            for r in con.execute(
                "select dedupe_key from webhook_events where list_contains(?, dedupe_key)",
                [keys],
            ).fetchall()
        }
        deleted = {
            r[0]
            for r in con.execute(
                """select object_id from webhook_events
                   where object_type = 'activity' and aspect_type = 'delete' and list_contains(?, object_id)
                   union select activity_id from deleted_activities where list_contains(?, activity_id)""",
                [activity_ids, activity_ids],
            ).fetchall()
        }
        athletes = {r[0] for r in con.execute("select athlete_id from athletes").fetchall()}
    token_dir = settings.secrets_dir / "tokens"  # registered but not synced yet
    if token_dir.exists():
        athletes.update(int(p.stem) for p in token_dir.glob("*.json") if p.stem.isdigit())
    return done, deleted, athletes


def _record(settings: Settings, rows: list[tuple[WebhookEvent, str]]) -> None:
    if not rows:
        return
    from pipeline.warehouse import writer

    with writer(settings) as con:
        ensure_events_table(con)
        con.executemany(
            """insert into webhook_events (dedupe_key, athlete_id, object_type, object_id, aspect_type,
                   event_time, updates, subscription_id, outcome)
               values (?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing""",
            [
                (
                    e.dedupe_key, e.owner_id, e.object_type, e.object_id, e.aspect_type,
                    e.event_time, json.dumps(e.updates), e.subscription_id, outcome,
                )
                for e, outcome in rows
            ],
        )  # fmt: skip


def process_inbox(settings: Settings, actions: SyncActions | None = None) -> ProcessReport:
    """Turn every waiting event into a fetch or a deletion, once; safe to run again any time.

    Events are handled in `event_time` order. Per activity only the final state matters:
    any delete wins (Strava never reuses an activity id), otherwise one fetch covers all of
    its creates and updates. A deauthorization removes the athlete everywhere and is not
    recorded (no row of that athlete may remain); later events of an unknown athlete are
    dropped. Events whose fetch fails go back to the inbox for the next run.
    """
    actions = actions or SyncActions.from_pipeline()
    inbox = Inbox(settings.inbox_dir)
    report = ProcessReport()
    with inbox.processing():
        files = inbox.claim()
        if not files:
            return report
        arrived, report.unreadable = read_inbox_files(files)
        report.received = len(arrived)
        unique: dict[str, tuple[WebhookEvent, int]] = {}
        for event, attempts in arrived:
            if event.dedupe_key in unique:
                report.duplicates += 1
            else:
                unique[event.dedupe_key] = (event, attempts)
        done, deleted, athletes = _known_state(settings, [e for e, _ in unique.values()])
        new = [(e, a) for e, a in unique.values() if e.dedupe_key not in done]
        report.duplicates += len(unique) - len(new)
        new.sort(key=lambda ea: ea[0].event_time)  # stable: arrival order breaks ties

        by_object: dict[int, list[tuple[WebhookEvent, int]]] = {}
        final_delete: set[int] = set(deleted)
        for e, a in new:
            if e.object_type == "activity":
                by_object.setdefault(e.object_id, []).append((e, a))
                if e.aspect_type == "delete":
                    final_delete.add(e.object_id)

        recorded: list[tuple[WebhookEvent, str]] = []
        requeue: list[dict[str, Any]] = []
        for e, attempts in new:
            if e.object_type == "athlete":
                if e.is_deauthorization:
                    try:
                        actions.remove_athlete(settings, e.owner_id)
                    except Exception as err:
                        _fail(
                            settings,
                            report,
                            requeue,
                            e,
                            attempts,
                            f"remove athlete {e.owner_id}",
                            err,
                        )
                        continue
                    athletes.discard(e.owner_id)
                    report.athletes_removed += 1
                    recorded = [(r, o) for r, o in recorded if r.owner_id != e.owner_id]
                else:
                    report.ignored += 1
                    recorded.append((e, "ignored"))
                continue
            if e.owner_id not in athletes:
                report.skipped_unknown_athlete += 1
                continue
            group = by_object[e.object_id]
            if e is not group[-1][0]:
                continue  # one action per activity, taken at its last event
            try:
                if e.object_id in deleted:
                    outcome = "superseded"  # deleted in an earlier run: nothing to fetch or delete
                elif e.object_id in final_delete:
                    actions.delete_activity(settings, e.owner_id, e.object_id)
                    outcome = "deleted"
                else:
                    outcome = _fetch_outcome(actions.fetch_activity(settings, e.owner_id, e.object_id))
            except Exception as err:
                for ev, a in group:
                    _fail(settings, report, requeue, ev, a, f"activity {e.object_id}", err)
                continue
            for ev, _ in group:
                o = outcome if ev is e or outcome != "fetched" else "superseded"
                recorded.append((ev, o))
                setattr(report, o, getattr(report, o) + 1)

        _record(settings, recorded)
        if report.athletes_removed:
            purge_deleted_rows(settings)
        if requeue:
            inbox.append(requeue)
        for path in files:
            path.unlink(missing_ok=True)
    return report


def purge_deleted_rows(settings: Settings) -> None:
    """Rewrite the warehouse so a removed athlete leaves no bytes behind (see `warehouse.compact`)."""
    from pipeline.warehouse import compact

    compact(settings)


def _fetch_outcome(result: Any) -> str:
    """Map `sync.fetch_activity`'s result: deferred fetches wait in the sync queue (strava_sync takes them)."""
    status = getattr(result, "status", "ok")
    if status == "ok":
        return "fetched"
    if status == "deferred":
        return "queued"
    if status == "needs_reauth":
        return "needs_reauth"
    raise RuntimeError(getattr(result, "message", "") or status)


def _fail(
    settings: Settings,
    report: ProcessReport,
    requeue: list[dict[str, Any]],
    e: WebhookEvent,
    attempts: int,
    what: str,
    err: Exception,
) -> None:
    from pipeline.tokens import known_secrets, redact

    message = redact(f"{what}: {type(err).__name__}: {err}", known_secrets(settings))
    log.warning("webhook event failed (attempt %d): %s", attempts + 1, message)
    report.errors.append(message)
    if attempts + 1 < MAX_ATTEMPTS:
        report.requeued += 1
        requeue.append({**e.to_json(), "_attempts": attempts + 1})
    else:
        report.failed += 1


# --- telling Airflow --------------------------------------------------------------------


@dataclass(frozen=True)
class AirflowApi:
    """Where the receiver records asset events (Airflow's REST API, simple auth manager)."""

    url: str
    user: str
    password: str = field(repr=False)
    timeout_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "AirflowApi | None":
        """`BACKSTRIDE_AIRFLOW_URL`, `_USER`, `_PASSWORD`; None when any is missing."""
        url, user, password = (env.get(f"BACKSTRIDE_AIRFLOW_{k}") for k in ("URL", "USER", "PASSWORD"))
        if not (url and user and password):
            return None
        return cls(url.rstrip("/"), user, password)


class AirflowNotifier:
    """Records one asset event per burst of received events, on a background thread.

    `poke` never blocks the receiver; a burst of events within `debounce_s` becomes a
    single asset event (one DAG run, not a thousand). Failures are logged and dropped: the
    events wait in the inbox and the next `strava_events` run (scheduled or triggered) takes
    them.
    """

    def __init__(self, api: AirflowApi, debounce_s: float = 0.5, retry_base_s: float = 0.5) -> None:
        self.api = api
        self.debounce_s = debounce_s
        self.retry_base_s = retry_base_s
        self._owners: set[int] = set()
        self._count = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._token: str | None = None
        self._asset_id: int | None = None
        self._thread = threading.Thread(target=self._run, name="airflow-notifier", daemon=True)
        self.sent = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.api.timeout_s * 2)

    def poke(self, event: WebhookEvent) -> None:
        with self._lock:
            self._owners.add(event.owner_id)
            self._count += 1
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                break
            time.sleep(self.debounce_s)
            self._wake.clear()
            with self._lock:
                owners, count = sorted(self._owners), self._count
                self._owners, self._count = set(), 0
            if count:
                self._send({"events": count, "owner_ids": owners})

    def _send(self, extra: dict[str, Any]) -> None:
        import requests

        for attempt in range(3):
            try:
                with requests.Session() as http:
                    self._post_event(http, extra)
                self.sent += 1
                return
            except Exception as err:
                self._token = None
                log.warning(
                    "could not record the Airflow asset event (attempt %d): %s",
                    attempt + 1,
                    type(err).__name__,
                )
                if self._stop.wait(self.retry_base_s * 2**attempt):
                    break
        self.failures += 1

    def _post_event(self, http: Any, extra: dict[str, Any]) -> None:
        if self._token is None:
            r = http.post(
                f"{self.api.url}/auth/token",
                json={"username": self.api.user, "password": self.api.password},
                timeout=self.api.timeout_s,
            )
            r.raise_for_status()
            self._token = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {self._token}"}
        if self._asset_id is None:
            r = http.get(
                f"{self.api.url}/api/v2/assets",
                params={"name_pattern": WEBHOOK_ASSET_NAME},
                headers=headers,
                timeout=self.api.timeout_s,
            )
            r.raise_for_status()
            matches = [a["id"] for a in r.json().get("assets", []) if a.get("name") == WEBHOOK_ASSET_NAME]
            if not matches:
                raise LookupError(f"Airflow has no asset {WEBHOOK_ASSET_NAME!r} yet (is the strava_events DAG parsed?)")
            self._asset_id = int(matches[0])
        r = http.post(
            f"{self.api.url}/api/v2/assets/events",
            json={"asset_id": self._asset_id, "extra": extra},
            headers=headers,
            timeout=self.api.timeout_s,
        )
        r.raise_for_status()


# --- the receiver (ASGI) ----------------------------------------------------------------


class GroupCommit:
    """Appends from concurrent requests share one write+fsync (group commit).

    Each request still returns only after its own event is on disk; under a burst the
    fsyncs batch up instead of queueing one by one. Runs on the server's event loop.
    """

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushing = False
        self._task: asyncio.Task[None] | None = None

    async def append(self, record: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if not self._flushing:
            self._flushing = True
            self._task = asyncio.create_task(self._flush())  # keep a reference: tasks are weakly held
        await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self.inbox.append, [r for r, _ in batch])
                except Exception as err:
                    for _, future in batch:
                        future.set_exception(err)
                else:
                    for _, future in batch:
                        future.set_result(None)
        finally:
            self._flushing = False


def create_app(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    notifier: "AirflowNotifier | None" = None,
) -> "FastAPI":
    """The webhook receiver. `env` supplies STRAVA_SUBSCRIPTION_ID and BACKSTRIDE_AIRFLOW_*."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse
    from starlette.requests import ClientDisconnect

    env = dict(env or {})
    read_subscription_ids(settings, env)  # a bad STRAVA_SUBSCRIPTION_ID fails here, not per request
    inbox = Inbox(settings.inbox_dir)
    if notifier is None:
        api = AirflowApi.from_env(env)
        notifier = AirflowNotifier(api) if api else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if notifier is not None:
            notifier.start()
        try:
            yield
        finally:
            if notifier is not None:
                notifier.stop()

    app = FastAPI(
        title="backstride webhook receiver",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    committer = GroupCommit(inbox)
    app.state.inbox = inbox
    app.state.notifier = notifier

    def refuse(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.get(WEBHOOK_PATH)
    async def handshake(request: Request) -> JSONResponse:
        """Strava's subscription check: echo hub.challenge if hub.verify_token matches."""
        q = request.query_params
        token, challenge = q.get("hub.verify_token"), q.get("hub.challenge")
        expected = settings.verify_token
        if not expected or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
            return refuse(403, "verify token does not match")
        if q.get("hub.mode") != "subscribe" or challenge is None:
            return refuse(400, "expected hub.mode=subscribe and hub.challenge")
        return JSONResponse({"hub.challenge": challenge})

    @app.post(WEBHOOK_PATH)
    async def receive(request: Request) -> JSONResponse:
        """Check the event, append it to the inbox (fsync'd), answer; Airflow hears later."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return refuse(413, f"body over {MAX_BODY_BYTES} bytes")
        unsupported = unsupported_content_type(request.headers.get("content-type"))
        if unsupported:
            return refuse(415, unsupported)
        body = bytearray()
        try:
            async for chunk in request.stream():
                body.extend(chunk)
                if len(body) > MAX_BODY_BYTES:
                    return refuse(413, f"body over {MAX_BODY_BYTES} bytes")
        except ClientDisconnect:
            return refuse(400, "the body ended early")
        try:
            event = parse_body(bytes(body))
        except EventError as e:
            return refuse(e.status, str(e))
        if event.subscription_id not in read_subscription_ids(settings, env):
            return refuse(403, "unknown subscription id")
        await committer.append(event.to_json())
        if notifier is not None:
            notifier.poke(event)
        return JSONResponse({"status": "queued"})

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "inbox_waiting": inbox.has_events()}

    return app


def serve(
    settings: Settings,
    env: Mapping[str, str],
    host: str = "127.0.0.1",
    port: int = 8787,
    app: "FastAPI | None" = None,
) -> None:
    """Run the receiver under uvicorn. Access logs are off: the handshake URL carries the verify token."""
    import uvicorn

    uvicorn.run(
        app or create_app(settings, env),
        host=host,
        port=port,
        access_log=False,
        log_level="info",
    )


# --- subscription management (stravalib) -----------------------------------------------


@dataclass(frozen=True)
class SubscriptionInfo:
    id: int | None
    callback_url: str | None
    created_at: str | None


def _strava_client(settings: Settings) -> Any:
    """A stravalib client pointed at `settings.strava_base_url` (no athlete token needed)."""
    from pipeline.strava_client import make_client

    return make_client(settings)


def _require_app_credentials(settings: Settings) -> tuple[int, str]:
    if settings.client_id is None or not settings.client_secret:
        raise ValueError("STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET must be set to manage the webhook subscription")
    return settings.client_id, settings.client_secret


def subscribe(settings: Settings, callback_url: str, client: Any = None) -> SubscriptionInfo:
    """`POST /push_subscriptions`: Strava checks the callback (GET handshake) before answering.

    The receiver must already be serving at `callback_url` with the same verify token.
    """
    client_id, secret = _require_app_credentials(settings)
    if not settings.verify_token:
        raise ValueError("STRAVA_VERIFY_TOKEN must be set: the receiver checks Strava's handshake against it")
    client = client or _strava_client(settings)
    sub = client.create_subscription(client_id, secret, callback_url, verify_token=settings.verify_token)
    if sub.id is not None:
        save_subscription_id(settings, int(sub.id))
    return _info(sub)


def list_subscriptions(settings: Settings, client: Any = None) -> list[SubscriptionInfo]:
    """`GET /push_subscriptions` (stravalib sends the secret in the query string, as Strava documents)."""
    client_id, secret = _require_app_credentials(settings)
    client = client or _strava_client(settings)
    return [_info(s) for s in client.list_subscriptions(client_id, secret)]


def unsubscribe(settings: Settings, subscription_id: int, client: Any = None) -> None:
    """`DELETE /push_subscriptions/{id}`, then stop accepting that id."""
    client_id, secret = _require_app_credentials(settings)
    client = client or _strava_client(settings)
    client.delete_subscription(subscription_id, client_id, secret)
    forget_subscription_id(settings, subscription_id)


def _info(sub: Any) -> SubscriptionInfo:
    created = getattr(sub, "created_at", None)
    return SubscriptionInfo(
        id=getattr(sub, "id", None),
        callback_url=getattr(sub, "callback_url", None),
        created_at=created.isoformat() if created is not None else None,
    )


# --- for the event-triggered safety-net sync --------------------------------------------


def athletes_needing_sync(settings: Settings, owner_ids: Iterable[int]) -> list[int]:
    """Of the athletes named in recent events, those whose sync has work left.

    That is: never synced, stopped early (deferred or error), or with detail/stream fetches
    queued (for example by a webhook fetch that hit the rate limit). Athletes whose sync is
    complete are left alone: polling them would spend requests on nothing new.
    """
    from pipeline.warehouse import connect_reader

    owners = sorted({int(o) for o in owner_ids})
    if not owners or not settings.warehouse_path.exists():
        return []
    con = connect_reader(settings)
    try:
        rows = con.execute(
            """select a.athlete_id from athletes a
               left join sync_state s using (athlete_id)
               where list_contains(?, a.athlete_id)
                 and (s.athlete_id is null or s.last_status in ('deferred', 'error')
                      or exists (select 1 from fetch_queue q where q.athlete_id = a.athlete_id))
               order by a.athlete_id""",
            [owners],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]
