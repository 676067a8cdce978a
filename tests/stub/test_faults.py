"""Fault injection on the stub: errors, randomness with a seed, slowness, bad bodies, 429s, drops."""

from __future__ import annotations

import json
import time

import pytest
import requests
from stub_support import api_get, bearer, stravalib_client

from pipeline.strava_stub import StubServer, World


def _codes(stub: StubServer, n: int, path: str = "/athlete") -> list[int]:
    header = bearer(stub, 1001)
    return [requests.get(stub.api_url + path, headers=header, timeout=10).status_code for _ in range(n)]


def test_an_error_status_for_the_next_n_requests(stub: StubServer) -> None:
    stub.inject("status", status=503, count=2)
    assert _codes(stub, 3) == [503, 503, 200]
    assert stub.stats()["faults_fired"] == {"status": 2}


def test_random_errors_are_deterministic_for_a_seed(world: World) -> None:
    patterns = []
    for _ in range(2):
        with StubServer(world, short_limit=1000) as stub:
            stub.inject("status", status=500, probability=0.1, count=None, seed=42)
            patterns.append(_codes(stub, 120))
    assert patterns[0] == patterns[1]
    assert 4 <= patterns[0].count(500) <= 24 and set(patterns[0]) == {200, 500}


def test_a_slow_answer_outlasts_the_client_timeout(stub: StubServer) -> None:
    stub.inject("slow", delay_s=1.5)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.get(stub.api_url + "/athlete", headers=bearer(stub, 1001), timeout=0.2)
    assert time.monotonic() - started < 1.2  # the client gave up; the answer was still on its way
    assert api_get(stub, 1001, "/athlete").status_code == 200


def test_a_malformed_body_is_not_json(stub: StubServer) -> None:
    stub.inject("malformed")
    answer = api_get(stub, 1001, "/athlete")
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()
    assert api_get(stub, 1001, "/athlete").json()["id"] == 1001


def test_a_truncated_body_is_the_start_of_the_real_json(stub: StubServer, world: World) -> None:
    stub.inject("truncated", path=r"/activities/\d+$")
    run_id = world.athlete(1001).activities[-1]["id"]
    answer = api_get(stub, 1001, f"/activities/{run_id}")
    whole = api_get(stub, 1001, f"/activities/{run_id}")
    assert answer.status_code == 200 and whole.status_code == 200
    assert whole.text.startswith(answer.text) and len(answer.text) < len(whole.text)
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.text)


def test_429_after_k_more_requests_hits_the_middle_of_paging(stub: StubServer) -> None:
    stub.inject("rate_limit", after=2, count=None, path="/athlete/activities")
    pages = [api_get(stub, 1002, "/athlete/activities", after=0, page=p, per_page=30) for p in (1, 2, 3, 4)]
    assert [p.status_code for p in pages] == [200, 200, 429, 429]
    assert pages[2].json()["message"] == "Rate Limit Exceeded"
    usage, limit = (pages[2].headers["X-ReadRateLimit-Usage"], pages[2].headers["X-ReadRateLimit-Limit"])
    assert int(usage.split(",")[0]) >= int(limit.split(",")[0])
    assert api_get(stub, 1002, "/athlete").status_code == 200  # other endpoints unaffected
    stub.clear_faults()
    assert api_get(stub, 1002, "/athlete/activities", after=0, page=3, per_page=30).status_code == 200


def test_a_fault_restricted_to_a_path_leaves_the_rest_alone(stub: StubServer, world: World) -> None:
    stub.inject("status", status=502, count=None, path=r"/streams$")
    run_id = world.athlete(1001).activities[-1]["id"]
    assert api_get(stub, 1001, f"/activities/{run_id}/streams", keys="time").status_code == 502
    assert api_get(stub, 1001, f"/activities/{run_id}").status_code == 200


def test_a_dropped_connection(stub: StubServer) -> None:
    stub.inject("disconnect")
    with pytest.raises(requests.ConnectionError):
        api_get(stub, 1001, "/athlete")
    assert api_get(stub, 1001, "/athlete").status_code == 200


def test_faults_can_hit_the_token_endpoint(stub: StubServer, world: World) -> None:
    stub.inject("status", status=503, path="^/oauth/token$")
    form = {"client_id": 90210, "client_secret": "demo-client-secret", "grant_type": "refresh_token"}
    form["refresh_token"] = world.athlete(1001).refresh_token
    assert requests.post(stub.base_url + "/oauth/token", data=form, timeout=10).status_code == 503
    assert requests.post(stub.base_url + "/oauth/token", data=form, timeout=10).status_code == 200


def test_stravalib_sees_a_server_error_as_a_fault(stub: StubServer) -> None:
    from stravalib import exc

    client = stravalib_client(stub, 1003)
    stub.inject("status", status=500)
    with pytest.raises(exc.Fault):
        client.get_athlete()
    assert client.get_athlete().id == 1003


def test_faults_over_http_for_tests_that_drive_a_subprocess(stub: StubServer) -> None:
    added = requests.post(
        stub.base_url + "/_stub/faults", json={"kind": "status", "status": 502, "count": 1}, timeout=10
    )
    assert added.ok and added.json()[0]["kind"] == "status"
    several = [{"kind": "status", "status": 500, "after": 1}, {"kind": "malformed", "after": 2}]
    assert requests.post(stub.base_url + "/_stub/faults", json=several, timeout=10).ok
    assert len(requests.get(stub.base_url + "/_stub/faults", timeout=10).json()) == 3
    assert _codes(stub, 2) == [502, 500]
    assert requests.delete(stub.base_url + "/_stub/faults", timeout=10).ok
    assert _codes(stub, 2) == [200, 200]


def test_an_unknown_fault_kind_is_refused(stub: StubServer) -> None:
    with pytest.raises(ValueError):
        stub.inject("gremlins")
    answer = requests.post(stub.base_url + "/_stub/faults", json={"kind": "gremlins"}, timeout=10)
    assert answer.status_code == 400


def test_revocation_over_http(stub: StubServer) -> None:
    header = bearer(stub, 1002)
    assert requests.post(stub.base_url + "/_stub/revoke", json={"athlete_id": 1002}, timeout=10).ok
    assert requests.get(stub.api_url + "/athlete", headers=header, timeout=10).status_code == 401


def test_nothing_is_printed_not_even_for_hung_up_clients(stub: StubServer, capfd: pytest.CaptureFixture[str]) -> None:
    tokens = stub.issue_tokens(1001)
    stub.inject("slow", delay_s=0.3)
    with pytest.raises(requests.Timeout):
        requests.get(
            stub.api_url + "/athlete", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=0.1
        )
    api_get(stub, 1001, "/athlete/activities", after=0)
    requests.post(stub.base_url + "/oauth/token", data={"client_secret": "demo-client-secret"}, timeout=10)
    time.sleep(0.4)  # let the slow handler write into the closed socket
    printed = capfd.readouterr()
    assert printed.out == "" and printed.err == ""


def test_a_truncated_token_answer_still_rotates_the_refresh_token(stub: StubServer, world: World) -> None:
    """The nasty case: Strava issued a new refresh token but the answer never arrived whole."""
    stub.inject("truncated", path="^/oauth/token$")
    form = {"client_id": 90210, "client_secret": "demo-client-secret", "grant_type": "refresh_token"}
    form["refresh_token"] = world.athlete(1002).refresh_token
    cut = requests.post(stub.base_url + "/oauth/token", data=form, timeout=10)
    with pytest.raises(ValueError):
        cut.json()
    assert requests.post(stub.base_url + "/oauth/token", data=form, timeout=10).status_code == 400
    assert stub.refresh_token_of(1002) not in (None, form["refresh_token"])
