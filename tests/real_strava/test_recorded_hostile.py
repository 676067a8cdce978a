"""Hostile variants of the recorded world, written here: one broken element in a real page, a
gear id that answers 404, a detail that is gone between the list and the detail, and Strava's own
recorded answer with a 30-digit id.

Specification (issue 10): a bad element is quarantined or recorded with a reason, never aborts
the athlete or the batch, every other element still loads, and nothing is retried forever.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from real_strava_support import register, rows, scalar, start, start_world
from sync_support import settings_for

from pipeline.build import run_build
from pipeline.strava_stub.recorded import FAKE_ID, redate
from pipeline.sync.run import sync_all


@pytest.fixture
def hostile(tmp_path, corpus, now):
    """A fresh recorded world (limits far above need), its server and settings."""
    world, server = start_world(corpus, now, short_limit=100_000, daily_limit=1_000_000)
    settings = settings_for(tmp_path, server)
    yield world, server, settings
    server.stop()
    assert server.internal_errors == [], server.internal_errors[0]


def window_runs(world):
    return world.runs_since(world.lookback_start + timedelta(hours=1))


def test_a_page_with_one_broken_element_loads_every_other_element(hostile):
    world, _server, settings = hostile
    old = world.lookback_start - timedelta(weeks=4)  # no detail is fetched for it: the list is all there is
    victim = next(a for a in sorted(world.summaries.values(), key=start, reverse=True) if start(a) < old)
    broken = dict(world.summaries[victim["id"]], distance={"value": "12 km"}, moving_time="forty minutes")
    world.summaries[victim["id"]] = broken
    register(settings, world)

    [result] = sync_all(settings)
    run_build(settings)

    assert result.status == "ok", result.summary()
    loaded = {r[0] for r in rows(settings, "select activity_id from activities")}
    others = {i for i in world.summaries if i != victim["id"]}  # the manual entry and the rounded runs too
    assert others - loaded == set()
    reasons = rows(
        settings,
        "select failed_expectations from quarantine where table_name = 'activities' and activity_id = ?",
        [victim["id"]],
    )
    assert reasons and all(r[0] for r in reasons)  # quarantined, with the expectations it failed


def test_a_gear_id_that_answers_404_is_recorded_missing_and_its_runs_still_count(hostile):
    world, server, settings = hostile
    gone = "g3372291"  # a retired shoe of 82 recorded runs, not in the profile's list
    answer = server.inject("response", status=404, body="", path=rf"^/api/v3/gear/{gone}$", count=None)
    register(settings, world)

    [result] = sync_all(settings)
    run_build(settings)
    [again] = sync_all(settings)
    run_build(settings)

    assert result.status == "ok" and again.status == "ok", (result.summary(), again.summary())
    assert rows(settings, "select missing from gear where gear_id = ?", [gone]) == [(True,)]
    used = {i for i, a in world.summaries.items() if a.get("gear_id") == gone}
    used |= {a["id"] for a in world.athlete_record.activities if a.get("gear_id") == gone}  # details too
    assert scalar(settings, "select count(*) from activities where gear_id = ?", [gone]) == len(used)
    assert answer.seen == 1  # asked once, recorded as missing, not asked again


def test_a_detail_gone_between_list_and_detail_does_not_stop_the_others(hostile):
    world, server, settings = hostile
    runs = sorted(window_runs(world), key=start, reverse=True)
    gone = runs[3]["id"]
    server.inject("response", status=404, body="", path=rf"^/api/v3/activities/{gone}$", count=None)
    register(settings, world)

    [result] = sync_all(settings)
    run_build(settings)
    [again] = sync_all(settings)

    assert result.status == "ok" and again.status == "ok", (result.summary(), again.summary())
    detailed = {r[0] for r in rows(settings, "select activity_id from activities where has_detail")}
    assert {r["id"] for r in runs if r["id"] != gone} - {1991813808} <= detailed
    assert gone not in detailed
    assert scalar(settings, "select count(*) from fetch_queue where activity_id = ? and kind = 'detail'", [gone]) == 0
    assert server.faults()[0]["fired"] == 1  # dropped from the queue, not asked for again


def test_strava_s_recorded_30_digit_id_is_quarantined_and_the_rest_loads(hostile, corpus):
    world, _server, settings = hostile
    marathon = world.summaries[1946417534]
    fake = redate(copy.deepcopy(corpus.fake_id_detail), start(marathon) - start(corpus.fake_id_detail))
    world.add_activity(world.athlete_record.athlete_id, fake)
    assert fake["id"] == FAKE_ID
    register(settings, world)

    [result] = sync_all(settings)
    run_build(settings)

    assert result.status == "ok", result.summary()
    assert scalar(settings, "select count(*) from activities where activity_id = 1946417534 and has_detail") == 1
    assert scalar(settings, "select count(*) from activities") >= 1_130
    assert scalar(settings, "select count(*) from landing where endpoint = 'activities_page'") >= 6
    held = rows(
        settings,
        """select failed_expectations, contains(row_json, ?) from quarantine
           where released_at is null and list_contains(failed_expectations, 'activity_id_out_of_range')""",
        [str(FAKE_ID)],
    )
    assert held == [(["activity_id_out_of_range"], True)]  # the 30-digit one, held with its reason
