"""The /_stub control endpoints that change the world, for tests that run the stub in a subprocess."""

from __future__ import annotations

import requests
from stub_support import api_get

from pipeline.strava_stub import StubServer, World


def test_a_run_added_over_http_is_listed_with_realistic_detail(stub: StubServer, world: World) -> None:
    spec = {"start_local": "2026-11-25T20:15:00", "distance_km": 7.5, "pace_s_per_km": 320, "warmup": True}
    added = requests.post(stub.base_url + "/_stub/activities", json={"athlete_id": 1002, "run": spec}, timeout=10)
    assert added.status_code == 201
    new_id = added.json()["id"]
    newest = api_get(stub, 1002, "/athlete/activities", per_page=1).json()[0]
    assert newest["id"] == new_id and newest["start_date_local"] == "2026-11-25T20:15:00Z"
    detail = api_get(stub, 1002, f"/activities/{new_id}").json()
    assert abs(detail["distance"] - 7500) < 1 and len(detail["splits_metric"]) == 8


def test_a_raw_activity_can_be_added_edited_and_deleted_over_http(stub: StubServer, world: World) -> None:
    raw = {"name": "Manual entry", "sport_type": "Run", "start_date": "2026-11-25T06:00:00Z", "distance": 5000.0}
    new_id = requests.post(
        stub.base_url + "/_stub/activities", json={"athlete_id": 1001, "activity": raw}, timeout=10
    ).json()["id"]
    edited = requests.put(
        stub.base_url + f"/_stub/activities/{new_id}",
        json={"changes": {"name": "Renamed", "private": True}},
        timeout=10,
    )
    assert edited.ok and world.activity(new_id)["name"] == "Renamed"
    assert requests.delete(stub.base_url + f"/_stub/activities/{new_id}", timeout=10).ok
    assert api_get(stub, 1001, f"/activities/{new_id}").status_code == 404
    assert requests.delete(stub.base_url + f"/_stub/activities/{new_id}", timeout=10).status_code == 404


def test_a_bad_control_request_says_what_is_wrong(stub: StubServer) -> None:
    answer = requests.post(stub.base_url + "/_stub/activities", json={"run": {}}, timeout=10)
    assert answer.status_code == 400 and "athlete_id" in answer.json()["message"]
