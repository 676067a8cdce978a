"""The API on the stub: athlete, activity list paging and time filters, details, streams, gear."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from stub_support import api_get, bearer, stravalib_client
from stub_today import TODAY

from pipeline.strava_stub import StubServer, World, synthetic_world
from pipeline.strava_stub.demo_data import DETAIL_ONLY_KEYS


def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def test_athlete_lists_shoes_with_distance_and_retired(stub: StubServer, world: World) -> None:
    body = api_get(stub, 1001, "/athlete").json()
    assert body["id"] == 1001 and body["resource_state"] == 3 and body["firstname"] == "Hannah"
    shoes = {s["id"]: s for s in body["shoes"]}
    assert set(shoes) == set(world.athlete(1001).gear)
    assert shoes["g1001r"]["retired"] is True and shoes["g1001a"]["retired"] is False
    assert shoes["g1001a"]["distance"] == world.athlete(1001).gear["g1001a"]["distance"] > 0
    assert all(s["resource_state"] == 2 for s in shoes.values())


def test_a_request_without_a_token_gets_a_strava_shaped_401(stub: StubServer) -> None:
    answer = requests.get(stub.api_url + "/athlete", timeout=10)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Authorization Error"
    assert answer.json()["errors"] == [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]


def test_list_defaults_to_30_newest_first_as_summaries(stub: StubServer, world: World) -> None:
    page = api_get(stub, 1003, "/athlete/activities").json()
    assert len(page) == 30
    starts = [_epoch(a["start_date"]) for a in page]
    assert starts == sorted(starts, reverse=True)
    assert page[0]["id"] == max(a["id"] for a in world.athlete(1003).activities)
    assert all(a["resource_state"] == 2 and not DETAIL_ONLY_KEYS & set(a) for a in page)
    assert {"sport_type", "gear_id", "average_cadence", "start_date_local", "timezone"} <= set(page[0])


def test_pages_cover_every_activity_once_and_stop_with_a_short_page(stub: StubServer, world: World) -> None:
    seen, page = [], 1
    while True:
        body = api_get(stub, 1001, "/athlete/activities", page=page, per_page=50).json()
        seen += [a["id"] for a in body]
        if len(body) < 50:
            break
        page += 1
    assert sorted(seen) == sorted(a["id"] for a in world.athlete(1001).activities)
    assert len(seen) == len(set(seen))


def test_per_page_is_capped_at_200() -> None:
    with StubServer(synthetic_world(1, 450, today=TODAY)) as stub:
        sizes = [len(api_get(stub, 5001, "/athlete/activities", page=p, per_page=500).json()) for p in (1, 2, 3, 4)]
    assert sizes == [200, 200, 50, 0]


def test_after_alone_lists_oldest_first_and_excludes_the_boundary(stub: StubServer, world: World) -> None:
    acts = sorted(world.athlete(1004).activities, key=lambda a: a["start_date"])
    cut = _epoch(acts[-10]["start_date"])
    body = api_get(stub, 1004, "/athlete/activities", after=cut, per_page=200).json()
    assert [a["id"] for a in body] == [a["id"] for a in acts[-9:]]


def test_before_lists_newest_first_strictly_before(stub: StubServer, world: World) -> None:
    acts = sorted(world.athlete(1004).activities, key=lambda a: a["start_date"])
    cut = _epoch(acts[5]["start_date"])
    body = api_get(stub, 1004, "/athlete/activities", before=cut).json()
    assert [a["id"] for a in body] == [a["id"] for a in reversed(acts[:5])]


def test_after_and_before_together_list_newest_first(stub: StubServer, world: World) -> None:
    acts = sorted(world.athlete(1004).activities, key=lambda a: a["start_date"])
    lo, hi = _epoch(acts[10]["start_date"]), _epoch(acts[20]["start_date"])
    body = api_get(stub, 1004, "/athlete/activities", after=lo, before=hi).json()
    assert [a["id"] for a in body] == [a["id"] for a in reversed(acts[11:20])]


def test_the_duplicate_record_ends_page_one_and_starts_page_two_of_a_full_sync(stub: StubServer, world: World) -> None:
    dup = world.bad_records["duplicate"]
    owner, _ = world.find(dup)
    page1 = api_get(stub, owner.athlete_id, "/athlete/activities", after=0, per_page=200).json()
    page2 = api_get(stub, owner.athlete_id, "/athlete/activities", after=0, per_page=200, page=2).json()
    assert len(page1) == 200 and page1[-1]["id"] == page2[0]["id"] == dup
    assert [a["id"] for a in page1 + page2].count(dup) == 2


def test_activity_detail_has_description_splits_and_gear(stub: StubServer, world: World) -> None:
    run = next(a for a in reversed(world.athlete(1004).activities) if a.get("description") and a["distance"])
    body = api_get(stub, 1004, f"/activities/{run['id']}").json()
    assert body == run
    assert body["resource_state"] == 3 and body["splits_metric"] and body["description"]
    assert body["gear"]["id"] == body["gear_id"] and body["gear"]["distance"] > 0


def test_another_athletes_activity_is_not_found(stub: StubServer, world: World) -> None:
    someone_elses = world.athlete(1002).activities[-1]["id"]
    answer = api_get(stub, 1001, f"/activities/{someone_elses}")
    assert answer.status_code == 404 and answer.json()["message"] == "Record Not Found"
    assert api_get(stub, 1001, "/activities/1").status_code == 404


def test_streams_keyed_by_type_or_as_a_list(stub: StubServer, world: World) -> None:
    run = world.athlete(1003).activities[-1]
    keyed = api_get(stub, 1003, f"/activities/{run['id']}/streams", keys="time,cadence,heartrate", key_by_type="true")
    assert set(keyed.json()) == {"time", "cadence", "heartrate", "distance"}
    assert keyed.json()["cadence"]["series_type"] == "distance" and keyed.json()["cadence"]["resolution"] == "high"
    listed = api_get(stub, 1003, f"/activities/{run['id']}/streams", keys="time,cadence").json()
    assert {s["type"] for s in listed} == {"time", "cadence", "distance"}
    assert keyed.json()["time"]["data"] == world.streams(run["id"], ["time"])["time"]["data"]


def test_gear_detail_and_unknown_gear(stub: StubServer, world: World) -> None:
    body = api_get(stub, 1002, "/gear/g1002a").json()
    assert body == world.athlete(1002).gear["g1002a"]
    assert body["brand_name"] == "HOKA" and body["resource_state"] == 3 and "retired" in body
    assert api_get(stub, 1002, "/gear/g1001a").status_code == 404


def test_stravalib_reads_everything_the_pipeline_needs(stub: StubServer, world: World) -> None:
    client = stravalib_client(stub, 1003)
    athlete = client.get_athlete()
    assert athlete.id == 1003 and len(athlete.shoes) == 3
    acts = list(client.get_activities(limit=250))
    assert len(acts) == len(world.athlete(1003).activities)
    recent = client.get_activity(acts[0].id)
    assert recent.splits_metric and recent.average_cadence
    streams = client.get_activity_streams(acts[0].id, types=["time", "cadence", "heartrate", "velocity_smooth"])
    assert len(streams["cadence"].data) == len(streams["time"].data) > 100
    assert client.get_gear("g1003b").brand_name == "ASICS"


def test_stravalib_after_filter_pages_oldest_first(stub: StubServer, world: World) -> None:
    client = stravalib_client(stub, 1002)
    acts = sorted(world.athlete(1002).activities, key=lambda a: a["start_date"])
    after = datetime.strptime(acts[-40]["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    got = [a.id for a in client.get_activities(after=after)]
    assert got == [a["id"] for a in acts[-39:]]


@pytest.mark.parametrize("path", ["/athlete/activities", "/athlete"])
def test_a_post_to_a_read_endpoint_is_refused(stub: StubServer, path: str) -> None:
    answer = requests.post(stub.api_url + path, headers=bearer(stub, 1001), timeout=10)
    assert answer.status_code == 405


def test_changes_to_the_world_show_up_on_the_next_request(stub: StubServer, world: World) -> None:
    run = world.add_activity(1001, world.new_run(1001, datetime(2026, 11, 25, 21, 0), 5.0))
    assert api_get(stub, 1001, "/athlete/activities").json()[0]["id"] == run["id"]
    world.update_activity(1001, run["id"], {"name": "Edited"})
    assert api_get(stub, 1001, f"/activities/{run['id']}").json()["name"] == "Edited"
    world.delete_activity(1001, run["id"])
    assert api_get(stub, 1001, f"/activities/{run['id']}").status_code == 404


def test_a_stopped_server_drops_kept_alive_connections(world: World) -> None:
    session = requests.Session()
    stub = StubServer(world)
    stub.start()
    header = bearer(stub, 1001)
    assert session.get(stub.api_url + "/athlete", headers=header, timeout=5).ok
    stub.stop()
    with pytest.raises(requests.ConnectionError):
        session.get(stub.api_url + "/athlete", headers=header, timeout=5)


def test_starting_on_a_busy_port_raises_oserror(world: World, stub: StubServer) -> None:
    with pytest.raises(OSError):
        StubServer(world, port=stub.port).start()


def test_a_bug_in_the_stub_answers_500_and_is_kept_for_the_test(
    stub: StubServer, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> dict:
        raise RuntimeError("generator bug")

    monkeypatch.setattr(world, "streams_of", broken)
    run_id = world.athlete(1001).activities[-1]["id"]
    answer = api_get(stub, 1001, f"/activities/{run_id}/streams", keys="time")
    assert answer.status_code == 500 and answer.json()["message"] == "stub internal error"
    assert len(stub.internal_errors) == 1 and "generator bug" in stub.internal_errors[0]
    stub.internal_errors.clear()
