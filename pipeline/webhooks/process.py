"""Processing the inbox: each waiting event becomes a fetch, a deletion or an athlete's removal, once.

Run by the `strava_events` DAG or `backstride webhook process`. The Strava-facing work is done
by `pipeline.sync` (injectable as `SyncActions`); which events were processed is kept in the
warehouse by `pipeline.webhooks.ledger`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.webhooks.events import WebhookEvent
from pipeline.webhooks.inbox import Inbox, read_inbox_files
from pipeline.webhooks.ledger import known_state, purge_deleted_rows, record_outcomes

log = logging.getLogger(__name__)

# An event whose fetch keeps failing is retried this many times, then dropped as failed.
MAX_ATTEMPTS = 5

Arrival = tuple[WebhookEvent, int]  # an event and how many times it was tried before


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
    def from_pipeline(cls) -> SyncActions:
        from pipeline import sync

        return cls(sync.fetch_activity, sync.delete_activity, sync.remove_athlete)


@dataclass
class _Pass:
    """One pass's working state: what is known, what was done, what goes back to the inbox."""

    settings: Settings
    actions: SyncActions
    report: ProcessReport
    athletes: set[int]  # registered athletes
    deleted: set[int]  # activities deleted in an earlier run
    final_delete: set[int]  # ... and those an event of this pass deletes
    by_object: dict[int, list[Arrival]]  # each activity's events, in event-time order
    recorded: list[tuple[WebhookEvent, str]] = field(default_factory=list)
    requeue: list[dict[str, Any]] = field(default_factory=list)


def process_inbox(settings: Settings, actions: SyncActions | None = None) -> ProcessReport:
    """Turn every waiting event into a fetch or a deletion, once; safe to run again any time.

    Events are handled in `event_time` order. Per activity only the final state matters:
    any delete wins (Strava never reuses an activity id), otherwise one fetch covers all of
    its creates and updates. A deauthorization removes the athlete everywhere and is not
    recorded (no row of that athlete may remain); later events of an unknown athlete are
    dropped. Events whose fetch fails go back to the inbox for the next run.
    """
    inbox = Inbox(settings.inbox_dir)
    report = ProcessReport()
    with inbox.processing():
        files = inbox.claim()
        if not files:
            return report
        arrived, report.unreadable = read_inbox_files(files)
        report.received = len(arrived)
        new, run = _start_pass(settings, actions or SyncActions.from_pipeline(), report, arrived)
        for event, attempts in new:
            if event.object_type == "athlete":
                _apply_athlete_event(run, event, attempts)
            else:
                _apply_activity_event(run, event)
        _finish_pass(run, inbox, files)
    return report


def _start_pass(
    settings: Settings, actions: SyncActions, report: ProcessReport, arrived: list[Arrival]
) -> tuple[list[Arrival], _Pass]:
    """Drop duplicates (within the batch and already processed), order by event time, group by activity."""
    unique: dict[str, Arrival] = {}
    for event, attempts in arrived:
        if event.dedupe_key in unique:
            report.duplicates += 1
        else:
            unique[event.dedupe_key] = (event, attempts)
    done, deleted, athletes = known_state(settings, [e for e, _ in unique.values()])
    new = [(e, a) for e, a in unique.values() if e.dedupe_key not in done]
    report.duplicates += len(unique) - len(new)
    new.sort(key=lambda ea: ea[0].event_time)  # stable: arrival order breaks ties

    by_object: dict[int, list[Arrival]] = {}
    final_delete = set(deleted)
    for e, a in new:
        if e.object_type == "activity":
            by_object.setdefault(e.object_id, []).append((e, a))
            if e.aspect_type == "delete":
                final_delete.add(e.object_id)
    return new, _Pass(settings, actions, report, athletes, deleted, final_delete, by_object)


def _apply_athlete_event(run: _Pass, e: WebhookEvent, attempts: int) -> None:
    """A deauthorization removes the athlete and forgets their events; other athlete events are ignored."""
    if not e.is_deauthorization:
        run.report.ignored += 1
        run.recorded.append((e, "ignored"))
        return
    try:
        run.actions.remove_athlete(run.settings, e.owner_id)
    except Exception as err:
        _fail(run, e, attempts, f"remove athlete {e.owner_id}", err)
        return
    run.athletes.discard(e.owner_id)
    run.report.athletes_removed += 1
    run.recorded = [(r, o) for r, o in run.recorded if r.owner_id != e.owner_id]


def _apply_activity_event(run: _Pass, e: WebhookEvent) -> None:
    """One action per activity, taken at its last event: delete if any event deletes, else fetch."""
    if e.owner_id not in run.athletes:
        run.report.skipped_unknown_athlete += 1
        return
    group = run.by_object[e.object_id]
    if e is not group[-1][0]:
        return
    try:
        if e.object_id in run.deleted:
            outcome = "superseded"  # deleted in an earlier run: nothing to fetch or delete
        elif e.object_id in run.final_delete:
            run.actions.delete_activity(run.settings, e.owner_id, e.object_id)
            outcome = "deleted"
        else:
            outcome = _fetch_outcome(run.actions.fetch_activity(run.settings, e.owner_id, e.object_id))
    except Exception as err:
        for ev, a in group:
            _fail(run, ev, a, f"activity {e.object_id}", err)
        return
    for ev, _ in group:
        o = outcome if ev is e or outcome != "fetched" else "superseded"
        run.recorded.append((ev, o))
        setattr(run.report, o, getattr(run.report, o) + 1)


def _finish_pass(run: _Pass, inbox: Inbox, files: list[Path]) -> None:
    """Record outcomes, purge a removed athlete's bytes, put failed events back, then drop the claimed files."""
    record_outcomes(run.settings, run.recorded)
    if run.report.athletes_removed:
        purge_deleted_rows(run.settings)
    if run.requeue:
        inbox.append(run.requeue)
    for path in files:
        path.unlink(missing_ok=True)


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


def _fail(run: _Pass, e: WebhookEvent, attempts: int, what: str, err: Exception) -> None:
    """Log the failure (secrets redacted); the event goes back to the inbox until MAX_ATTEMPTS."""
    from pipeline.tokens import known_secrets, redact

    message = redact(f"{what}: {type(err).__name__}: {err}", known_secrets(run.settings))
    log.warning("webhook event failed (attempt %d): %s", attempts + 1, message)
    run.report.errors.append(message)
    if attempts + 1 < MAX_ATTEMPTS:
        run.report.requeued += 1
        run.requeue.append({**e.to_json(), "_attempts": attempts + 1})
    else:
        run.report.failed += 1
