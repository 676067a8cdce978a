"""Rate limits on the stub: Strava's headers on every API answer, counting, 429, windows, stats."""

from __future__ import annotations

import requests
from stub_support import api_get, bearer

from pipeline.strava_stub import StubServer, World

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage")


def test_every_api_answer_carries_the_four_headers_as_fifteen_min_comma_daily(stub: StubServer) -> None:
    answers = [
        api_get(stub, 1001, "/athlete"),
        api_get(stub, 1001, "/activities/1"),
        requests.get(stub.api_url + "/athlete", timeout=10),
    ]
    assert [a.status_code for a in answers] == [200, 404, 401]
    for answer in answers:
        assert all(len(answer.headers[h].split(",")) == 2 for h in HEADERS)
    assert answers[-1].headers["X-ReadRateLimit-Usage"] == "3,3"
    assert answers[-1].headers["X-ReadRateLimit-Limit"] == "100,1000"
    assert answers[-1].headers["X-RateLimit-Limit"] == "200,2000"


def test_oauth_requests_are_not_counted(stub: StubServer, world: World) -> None:
    requests.post(
        stub.base_url + "/oauth/token",
        data={"client_id": 90210, "client_secret": "demo-client-secret", "grant_type": "refresh_token",
              "refresh_token": world.athlete(1001).refresh_token},
        timeout=10,
    )  # fmt: skip
    assert "X-RateLimit-Usage" not in requests.post(stub.base_url + "/oauth/token", timeout=10).headers
    assert api_get(stub, 1001, "/athlete").headers["X-ReadRateLimit-Usage"] == "1,1"


def test_past_the_read_limit_the_answer_is_429_with_stravas_body(world: World) -> None:
    with StubServer(world, short_limit=3, daily_limit=50) as stub:
        header = bearer(stub, 1002)
        codes = [requests.get(stub.api_url + "/athlete", headers=header, timeout=10).status_code for _ in range(5)]
        last = requests.get(stub.api_url + "/athlete", headers=header, timeout=10)
    assert codes == [200, 200, 200, 429, 429]
    assert last.json() == {
        "message": "Rate Limit Exceeded",
        "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}],
    }
    assert last.headers["X-ReadRateLimit-Usage"] == "6,6" and last.headers["X-ReadRateLimit-Limit"] == "3,50"


def test_the_daily_limit_applies_across_fifteen_minute_windows(world: World) -> None:
    now = [1_800_000_000.0]  # 2027-01-15 08:00 UTC, the start of a 15-minute window
    with StubServer(world, short_limit=2, daily_limit=3, clock=lambda: now[0], access_token_ttl_s=10**6) as stub:
        header = bearer(stub, 1001)

        def get() -> requests.Response:
            return requests.get(stub.api_url + "/athlete", headers=header, timeout=10)

        first = [get().status_code for _ in range(3)]
        now[0] += 900
        second = get()
        now[0] += 86400
        third = get()
    assert first == [200, 200, 429]
    assert second.status_code == 429 and second.headers["X-ReadRateLimit-Usage"] == "1,4"
    assert third.status_code == 200 and third.headers["X-ReadRateLimit-Usage"] == "1,1"


def test_set_limits_and_reset_usage(stub: StubServer) -> None:
    stub.set_limits(1, 10)
    assert api_get(stub, 1001, "/athlete").status_code == 200
    assert api_get(stub, 1001, "/athlete").status_code == 429
    stub.reset_usage()
    assert api_get(stub, 1001, "/athlete").status_code == 200


def test_stats_count_requests_per_endpoint_athlete_and_status(stub: StubServer, world: World) -> None:
    api_get(stub, 1001, "/athlete")
    api_get(stub, 1003, "/athlete/activities")
    run_id = world.athlete(1003).activities[-1]["id"]
    api_get(stub, 1003, f"/activities/{run_id}")
    api_get(stub, 1003, f"/activities/{run_id}/streams", keys="time")
    api_get(stub, 1003, "/gear/g1003b")
    stats = stub.stats()
    assert stats["api_requests"] == 5
    assert stats["by_athlete"] == {1001: 1, 1003: 4}
    assert stats["by_endpoint"] == {
        "GET /api/v3/athlete": 1,
        "GET /api/v3/athlete/activities": 1,
        "GET /api/v3/activities/{id}": 1,
        "GET /api/v3/activities/{id}/streams": 1,
        "GET /api/v3/gear/{id}": 1,
    }
    assert stats["by_status"] == {200: 5}
    stub.reset_stats()
    assert stub.stats()["api_requests"] == 0


def test_stats_over_http_for_tests_that_drive_a_subprocess(stub: StubServer) -> None:
    api_get(stub, 1004, "/athlete")
    stats = requests.get(stub.base_url + "/_stub/stats", timeout=10).json()
    assert stats["api_requests"] == 1 and stats["by_athlete"] == {"1004": 1}
    assert requests.post(stub.base_url + "/_stub/reset", timeout=10).ok
    assert requests.get(stub.base_url + "/_stub/stats", timeout=10).json()["api_requests"] == 0
    limits = requests.post(stub.base_url + "/_stub/limits", json={"short": 1, "daily": 5}, timeout=10).json()
    assert limits == {"short": 1, "daily": 5}
    assert [api_get(stub, 1004, "/athlete").status_code for _ in range(2)] == [200, 429]


def test_concurrent_requests_are_all_counted(stub: StubServer, world: World) -> None:
    from concurrent.futures import ThreadPoolExecutor

    stub.set_limits(1000, 10000)
    header = bearer(stub, 1003)
    run_id = world.athlete(1003).activities[-1]["id"]
    paths = ["/athlete", "/athlete/activities", f"/activities/{run_id}", f"/activities/{run_id}/streams"] * 15

    def get(path: str) -> int:
        return requests.get(stub.api_url + path, headers=header, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(get, paths))
    assert codes == [200] * 60
    stats = stub.stats()
    assert stats["api_requests"] == 60 and stats["by_athlete"] == {1003: 60} and stats["usage"]["read"] == [60, 60]
