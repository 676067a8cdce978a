"""`process_inbox` turns queued events into fetches and deletions, once, in event-time order.

The Strava calls are replaced by recorders (the real ones are covered end to end in
tests/dags/test_dags_end_to_end.py); the inbox and the warehouse are real.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from webhook_support import event

from pipeline.config import Settings
from pipeline.upsert import insert_missing_rows
from pipeline.warehouse import connect_reader, delete_athlete_rows, writer
from pipeline.webhooks.inbox import Inbox
from pipeline.webhooks.process import MAX_ATTEMPTS, SyncActions, process_inbox
from tests.lake_support import raw_traces

ATHLETE = 7


@dataclass
class Recorder:
    """Stands in for pipeline.sync: records calls; optionally fails fetches."""

    settings: Settings
    calls: list[tuple] = field(default_factory=list)
    fetch_status: str = "ok"
    fail_fetch: bool = False

    def fetch(self, settings: Settings, athlete_id: int, activity_id: int) -> SimpleNamespace:
        self.calls.append(("fetch", athlete_id, activity_id))
        if self.fail_fetch:
            raise ConnectionError("strava unreachable")
        return SimpleNamespace(status=self.fetch_status, message="")

    def delete(self, settings: Settings, athlete_id: int, activity_id: int) -> int:
        self.calls.append(("delete", athlete_id, activity_id))
        with writer(settings) as con:
            insert_missing_rows(con, "deleted_activities", ("activity_id", "athlete_id"), [(activity_id, athlete_id)])
        return 1

    def remove(self, settings: Settings, athlete_id: int) -> dict:
        self.calls.append(("remove", athlete_id))
        with writer(settings) as con:
            return delete_athlete_rows(con, athlete_id)

    @property
    def actions(self) -> SyncActions:
        return SyncActions(self.fetch, self.delete, self.remove)


@pytest.fixture
def sync(settings: Settings) -> Recorder:
    with writer(settings) as con:
        con.execute("insert into athletes (athlete_id, email) values (?, 'a@example.org')", [ATHLETE])
    return Recorder(settings)


def deliver(settings: Settings, *events: dict) -> None:
    Inbox(settings.inbox_dir).append(events)


def test_a_create_event_fetches_the_activity(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1))
    report = process_inbox(settings, sync.actions)
    assert sync.calls == [("fetch", ATHLETE, 1)]
    assert report.fetched == 1


def test_a_redelivered_event_is_processed_once(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1), event(object_id=1))
    process_inbox(settings, sync.actions)
    deliver(settings, event(object_id=1))  # Strava's retry, after the first run
    report = process_inbox(settings, sync.actions)
    assert sync.calls == [("fetch", ATHLETE, 1)]
    assert report.duplicates == 1


def test_creates_and_updates_of_one_activity_cost_one_fetch(settings: Settings, sync: Recorder) -> None:
    deliver(
        settings,
        event(object_id=1, event_time=10),
        event(object_id=1, event_time=11, aspect_type="update", updates={"title": "Easy"}),
        event(object_id=1, event_time=12, aspect_type="update", updates={"title": "Easy run"}),
    )
    report = process_inbox(settings, sync.actions)
    assert sync.calls == [("fetch", ATHLETE, 1)]
    assert report.processed == 3


def test_a_delete_wins_over_a_create_that_arrives_after_it(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1, event_time=20, aspect_type="delete"), event(object_id=1, event_time=10))
    process_inbox(settings, sync.actions)
    assert sync.calls == [("delete", ATHLETE, 1)]


def test_a_late_create_after_a_processed_delete_fetches_nothing(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1, event_time=20, aspect_type="delete"))
    process_inbox(settings, sync.actions)
    deliver(settings, event(object_id=1, event_time=10, aspect_type="update", updates={"title": "x"}))
    report = process_inbox(settings, sync.actions)
    assert sync.calls == [("delete", ATHLETE, 1)]
    assert report.superseded == 1


def test_events_run_in_event_time_order_across_objects(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=2, event_time=30), event(object_id=1, event_time=10))
    process_inbox(settings, sync.actions)
    assert sync.calls == [("fetch", ATHLETE, 1), ("fetch", ATHLETE, 2)]


def test_deauthorization_removes_the_athlete_and_leaves_no_event_rows(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1, event_time=10))
    process_inbox(settings, sync.actions)
    deauth = event(
        object_type="athlete", object_id=ATHLETE, aspect_type="update", updates={"authorized": "false"}, event_time=20
    )
    deliver(settings, deauth, event(object_id=2, event_time=30))
    report = process_inbox(settings, sync.actions)
    assert ("remove", ATHLETE) in sync.calls
    assert ("fetch", ATHLETE, 2) not in sync.calls  # after deauthorization: dropped
    assert report.athletes_removed == 1 and report.skipped_unknown_athlete == 1
    with connect_reader(settings) as con:
        assert con.execute("select count(*) from webhook_events where athlete_id = ?", [ATHLETE]).fetchone() == (0,)


def test_events_of_an_unregistered_athlete_are_dropped(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(owner_id=999))
    report = process_inbox(settings, sync.actions)
    assert sync.calls == []
    assert report.skipped_unknown_athlete == 1
    assert not Inbox(settings.inbox_dir).has_events()


def test_a_failed_fetch_goes_back_to_the_inbox_and_is_retried(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1))
    sync.fail_fetch = True
    report = process_inbox(settings, sync.actions)
    assert report.requeued == 1 and report.fetched == 0
    assert "strava unreachable" in report.errors[0]
    sync.fail_fetch = False
    report = process_inbox(settings, sync.actions)
    assert report.fetched == 1
    assert sync.calls == [("fetch", ATHLETE, 1)] * 2


def test_an_event_that_keeps_failing_is_dropped_after_the_last_attempt(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1))
    sync.fail_fetch = True
    reports = [process_inbox(settings, sync.actions) for _ in range(MAX_ATTEMPTS)]
    assert reports[-1].failed == 1
    assert not Inbox(settings.inbox_dir).has_events()


def test_a_deferred_fetch_is_left_to_the_sync_queue(settings: Settings, sync: Recorder) -> None:
    sync.fetch_status = "deferred"
    deliver(settings, event(object_id=1))
    report = process_inbox(settings, sync.actions)
    assert report.queued == 1 and report.requeued == 0


def test_an_empty_inbox_touches_nothing(settings: Settings, sync: Recorder) -> None:
    report = process_inbox(settings, sync.actions)
    assert report.received == 0 and sync.calls == []


def test_a_torn_last_line_is_counted_not_fatal(settings: Settings, sync: Recorder) -> None:
    deliver(settings, event(object_id=1))
    with open(Inbox(settings.inbox_dir).path, "a") as fh:
        fh.write('{"object_type": "activ')  # a crash mid-write; the sender got no 200
    report = process_inbox(settings, sync.actions)
    assert report.unreadable == 1 and report.fetched == 1


def test_deauthorization_leaves_no_bytes_of_the_athlete_in_the_warehouse_files(
    settings: Settings, sync: Recorder
) -> None:
    with writer(settings) as con:
        con.execute("update athletes set email = 'deauth-me@example.org' where athlete_id = ?", [ATHLETE])
        con.execute("insert into athletes (athlete_id, email) values (8, 'stays@example.org')")
    deauth = event(object_type="athlete", object_id=ATHLETE, aspect_type="update", updates={"authorized": "false"})
    deliver(settings, deauth)
    process_inbox(settings, sync.actions)
    assert raw_traces(settings, ATHLETE, "deauth-me@example.org") == []
    assert raw_traces(settings, None, "stays@example.org") != []  # the check can see strings in the files at all


def test_event_triggered_sync_is_limited_to_athletes_with_work_left(settings: Settings) -> None:
    from pipeline.webhooks.ledger import athletes_needing_sync

    with writer(settings) as con:
        con.execute("insert into athletes (athlete_id, email) select i, 'x@example.org' from range(1, 5) t(i)")
        con.execute(
            """insert into sync_state (athlete_id, last_status) values
               (1, 'ok'), (2, 'deferred'), (3, 'ok')"""
        )
        con.execute("insert into fetch_queue (athlete_id, activity_id, kind) values (3, 30, 'detail')")
    # 1: done, 2: deferred, 3: queued fetch, 4: never synced, 5: not registered
    assert athletes_needing_sync(settings, [1, 2, 3, 4, 5]) == [2, 3, 4]
    assert athletes_needing_sync(settings, []) == []
