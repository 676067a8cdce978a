"""Onboarding the recorded runner under Strava's default quota, with the recorded 429 mid-sync.

Specification: 100 reads per 15 minutes and 1,000 a day are not enough for a first sync of this
runner (6 list pages, about 110 details and streams, the profile and 17 shoes). The first sync
stops (deferred) with nothing lost, the recorded 429 answered in the middle is survived the same
way, later syncs in later windows finish everything, and the warehouse ends equal to the one an
unthrottled sync built: same activities, splits, gear and stream features, no run in quarantine.
"""

from __future__ import annotations

import pytest
from real_strava_support import FakeClock, register, rows, scalar, start_world
from sync_support import settings_for, snapshot

from pipeline.build import run_build
from pipeline.strava_stub.recorded import inject_recorded_429
from pipeline.sync.run import sync_all

COMPARED = ("activities", "splits", "gear", "stream_features")
MAX_SYNCS = 8


@pytest.fixture(scope="module")
def throttled(tmp_path_factory, corpus, now):
    clock = FakeClock()
    world, server = start_world(corpus, now, clock=clock)  # Strava's defaults: 100 / 15 min, 1,000 / day
    try:
        settings = settings_for(tmp_path_factory.mktemp("throttled"), server)
        register(settings, world)
        inject_recorded_429(server, corpus, after=30)
        [first] = sync_all(settings)
        after_first = {
            "recorded": {a["id"] for a in world.athlete_record.activities},
            "kept": {
                r[0]
                for r in rows(settings, "select activity_id from activities union select activity_id from quarantine")
            },
            "details": scalar(settings, "select count(*) from landing where endpoint = 'activity_detail'"),
            "queue": scalar(settings, "select count(*) from fetch_queue"),
        }
        later = []
        while len(later) < MAX_SYNCS:
            clock.advance(900)  # the next 15-minute window
            [result] = sync_all(settings)
            later.append(result)
            if result.status == "ok" and result.pending == 0:
                break
        build = run_build(settings)
        yield {
            "settings": settings,
            "server": server,
            "first": first,
            "after_first": after_first,
            "later": later,
            "build": build,
            "stats": server.stats(),
        }
        assert server.internal_errors == [], server.internal_errors[0]
    finally:
        server.stop()


def test_the_first_sync_is_deferred_with_nothing_lost(throttled):
    first, got = throttled["first"], throttled["after_first"]
    assert first.status == "deferred", first.summary()
    assert "429" in first.message or "rate limit" in first.message.lower()
    assert got["recorded"] - got["kept"] == set()  # every listed summary loaded (or held in quarantine)
    assert got["details"] == first.details > 0  # what was fetched before the 429 is kept
    assert got["queue"] == first.pending > 0  # and the rest is queued for the next run


def test_later_syncs_finish_everything_within_the_quota(throttled):
    later, stats = throttled["later"], throttled["stats"]
    assert later[-1].status == "ok", [r.summary() for r in later]
    assert later[-1].pending == 0
    assert len(later) <= 4  # about 130 reads at 95 a window
    assert stats["by_status"][429] == 1  # only the injected one: the budget never ran into the limit
    assert scalar(throttled["settings"], "select count(*) from fetch_queue") == 0


def test_the_final_warehouse_equals_an_unthrottled_sync(throttled, recorded_run):
    assert snapshot(throttled["settings"], COMPARED) == snapshot(recorded_run.settings, COMPARED)


def test_no_run_is_left_in_quarantine(throttled):
    open_rows = rows(
        throttled["settings"],
        """select record_key, failed_expectations from quarantine
           where table_name = 'activities' and released_at is null and superseded_by is null order by all""",
    )
    assert open_rows == []
