"""`Api.get` retries 5xx answers with exponential backoff, and the budget sees every attempt.

A real HTTP server on 127.0.0.1 answers a scripted list of statuses; the Api's sleep is
recorded instead of slept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.strava_client import Api, Budget, Deferred, StravaError, make_client
from pipeline.tokens import Tokens

USAGE = {"X-RateLimit-Limit": "100,1000", "X-RateLimit-Usage": "1,1"}


class Scripted(ThreadingHTTPServer):
    statuses: list[int]
    seen: list[str]


class Handler(BaseHTTPRequestHandler):
    server: Scripted

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        body = json.dumps({"id": 1} if status == 200 else {"message": "error"}).encode()
        self.send_response(status)
        for name, value in USAGE.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    srv = Scripted(("127.0.0.1", 0), Handler)
    srv.statuses, srv.seen = [], []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def api_for(server: Scripted, tmp_path: Path, retries: int = 3) -> tuple[Api, Budget, list[float]]:
    settings = Settings(
        home=tmp_path,
        strava_base_url=f"http://127.0.0.1:{server.server_address[1]}",
        client_id=1,
        client_secret="app-secret",
        http_timeout_s=5.0,
        retries=retries,
        backoff_s=0.5,
    )
    tokens = Tokens("access-token", "refresh-token", int(time.time()) + 3600)
    budget = Budget(settings.reserve_short, settings.reserve_daily)
    slept: list[float] = []
    api = Api(make_client(settings, tokens, budget), settings, None, tokens, budget, sleep=slept.append)
    return api, budget, slept


def test_a_5xx_is_retried_with_doubling_waits_and_every_attempt_is_counted(server, tmp_path):
    server.statuses = [503, 502]
    api, budget, slept = api_for(server, tmp_path)

    body = api.get("/athlete")

    assert body == {"id": 1}
    assert len(server.seen) == 3
    assert slept == [0.5, 1.0]
    assert api.requests == 3
    assert budget.requests_seen == 3


def test_persistent_5xx_defers_after_the_configured_retries(server, tmp_path):
    server.statuses = [500] * 10
    api, budget, slept = api_for(server, tmp_path, retries=2)

    with pytest.raises(Deferred, match=r"GET /athlete: HTTP 500 after 3 attempts"):
        api.get("/athlete")

    assert len(server.seen) == 3
    assert slept == [0.5, 1.0]
    assert budget.requests_seen == 3


def test_a_4xx_other_than_401_and_429_fails_at_once_without_retry(server, tmp_path):
    server.statuses = [400]
    api, _, slept = api_for(server, tmp_path)

    with pytest.raises(StravaError, match="HTTP 400") as caught:
        api.get("/athlete")

    assert not isinstance(caught.value, Deferred)
    assert len(server.seen) == 1
    assert slept == []


def test_a_retry_is_not_sent_once_the_budget_is_spent(server, tmp_path):
    server.statuses = [503]
    api, budget, slept = api_for(server, tmp_path)
    budget.usage["overall"], budget.limits["overall"] = (99, 1), (100, 1000)  # spent before the first request

    with pytest.raises(Deferred, match="15-minute budget spent"):
        api.get("/athlete")

    assert server.seen == []
    assert slept == []
