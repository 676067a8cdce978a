"""The recorded world as the stub serves it: re-dated, paged and answered as Strava recorded it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from real_strava_support import start, start_world

from pipeline.strava_stub.recorded import ATHLETE_ID, FOLLOWERS_ONLY_ID, MARATHON_ID, inject_recorded_429


@pytest.fixture(scope="module")
def served(corpus, now):
    world, server = start_world(corpus, now)
    yield world, server
    server.stop()
    assert server.internal_errors == [], server.internal_errors[0]


def get(server, path, **params):
    token = server.issue_tokens(ATHLETE_ID)["access_token"]
    return requests.get(server.api_url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_redating_moves_by_whole_weeks_and_keeps_weekday_time_of_day_and_spacing(corpus, served, now):
    world, _ = served
    original = {a["id"]: a for a in corpus.summaries}
    moved = {i: world.summaries[i] for i in world.placed["history"] if i not in world.placed["marathon"]}
    newest = max(moved.values(), key=start)
    assert now - timedelta(days=7, hours=1) < start(newest) <= now - timedelta(hours=1)
    shifts = {
        start(moved[i]) - start(original[i]) for i in moved if i in original and "sport_type" in world.summaries[i]
    }
    assert len(shifts) == 1 and next(iter(shifts)) % timedelta(weeks=1) == timedelta(0)
    marathon = world.summaries[MARATHON_ID]
    assert world.lookback_start < start(marathon) < now
    assert start(marathon).weekday() == start(original[MARATHON_ID]).weekday() == 6
    assert marathon["start_date"][11:] == original[MARATHON_ID]["start_date"][11:]
    assert marathon["start_date_local"][11:] == original[MARATHON_ID]["start_date_local"][11:]


def test_list_pages_honour_after_before_page_and_per_page(served):
    world, server = served
    everything = sorted(world.summaries.values(), key=start, reverse=True)
    first = get(server, "/athlete/activities", page=1, per_page=30).json()
    assert [a["id"] for a in first] == [a["id"] for a in everything[:30]]
    assert first[0] == world.summaries[first[0]["id"]]  # the recorded summary, as recorded
    pages, page = [], 1
    while batch := get(server, "/athlete/activities", page=page, per_page=200).json():
        pages.append(batch)
        page += 1
    assert [len(p) for p in pages] == [200] * 5 + [135]
    after = int(world.lookback_start.timestamp())
    window = get(server, "/athlete/activities", after=after, per_page=200).json()
    assert [a["id"] for a in window] == [a["id"] for a in reversed(everything) if start(a).timestamp() > after]
    before = get(server, "/athlete/activities", after=after, before=after + 14 * 86400).json()
    assert all(after < start(a).timestamp() < after + 14 * 86400 for a in before) and before


def test_details_streams_and_gear_are_the_recorded_bodies(served):
    world, server = served
    marathon = get(server, f"/activities/{MARATHON_ID}").json()
    assert len(marathon["splits_metric"]) == 43 and "average_cadence" not in marathon
    keyed = get(server, f"/activities/{MARATHON_ID}/streams", keys="time,distance", key_by_type="true").json()
    assert list(keyed) == ["distance"] and len(keyed["distance"]["data"]) == 13129
    listed = get(server, f"/activities/{FOLLOWERS_ONLY_ID}/streams", keys="time,distance,heartrate", key_by_type="true")
    assert [s["type"] for s in listed.json()] == ["time", "distance", "heartrate"]  # list-shaped, as recorded
    assert get(server, "/gear/g3423618").json()["retired"] is True
    assert get(server, "/athlete").json()["shoes"] == world.corpus.profile["shoes"]


def test_an_unknown_id_answers_the_recorded_404(served):
    _, server = served
    for path in ("/activities/1", "/gear/g1"):
        answer = get(server, path)
        assert answer.status_code == 404 and answer.text == ""  # Strava's recorded 404 had no body


def test_the_recorded_429_can_be_injected_mid_sync(corpus, served):
    _, server = served
    inject_recorded_429(server, corpus, after=1)
    assert get(server, "/athlete").status_code == 200
    answer = get(server, "/athlete")
    assert answer.status_code == 429
    assert answer.text == '{"errors":"Rate Limit Exceeded","status":429,"message":"Too Many Requests"}'
    assert answer.headers["X-Ratelimit-Usage"] == "600,30000" and answer.headers["X-Ratelimit-Limit"] == "600,30000"
    assert get(server, "/athlete").status_code == 200
    server.clear_faults()
