"""The notifier retries a failed asset event with exponential backoff (tenacity), logs in again
after a failure, gives a burst up after three attempts, and `stop()` cuts a backoff short."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import ClassVar

import pytest
from loopback_support import JsonHandler, running_http
from webhook_support import event

from pipeline.webhooks.airflow import SEND_ATTEMPTS, AirflowApi, AirflowNotifier
from pipeline.webhooks.assets import WEBHOOK_ASSET_NAME
from pipeline.webhooks.events import parse_event


class FlakyAirflow(JsonHandler):
    """Airflow's token, asset and asset-event endpoints; the first `fail_events` event posts get a 503."""

    fail_events: ClassVar[int] = 0
    event_posts: ClassVar[list[float]] = []  # monotonic time of each attempt
    recorded: ClassVar[list[dict]] = []
    token_requests: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = self.read_json()
        cls = type(self)
        if self.path == "/auth/token":
            cls.token_requests += 1
            return self.send_json(201, {"access_token": "jwt"})
        cls.event_posts.append(time.monotonic())
        if len(cls.event_posts) <= cls.fail_events:
            return self.send_json(503, {})
        cls.recorded.append(body)
        return self.send_json(200, {"id": len(cls.recorded)})

    def do_GET(self) -> None:
        self.send_json(200, {"assets": [{"id": 3, "name": WEBHOOK_ASSET_NAME}]})


@pytest.fixture
def airflow() -> Iterator[type[FlakyAirflow]]:
    FlakyAirflow.fail_events, FlakyAirflow.event_posts, FlakyAirflow.recorded = 0, [], []
    FlakyAirflow.token_requests = 0
    with running_http(FlakyAirflow) as url:
        FlakyAirflow.url = url  # type: ignore[attr-defined]
        yield FlakyAirflow


def notifier_for(airflow: type[FlakyAirflow], retry_base_s: float) -> AirflowNotifier:
    api = AirflowApi(airflow.url, "admin", "pw", timeout_s=2)  # type: ignore[attr-defined]
    return AirflowNotifier(api, debounce_s=0.01, retry_base_s=retry_base_s)


def wait_for(predicate, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_failures_then_success_record_one_event_after_growing_pauses(airflow) -> None:
    airflow.fail_events = 2
    notifier = notifier_for(airflow, retry_base_s=0.2)
    notifier.start()
    try:
        notifier.poke(parse_event(event(owner_id=9)))
        wait_for(lambda: notifier.sent == 1)
    finally:
        notifier.stop()
    assert notifier.failures == 0
    assert airflow.recorded == [{"asset_id": 3, "extra": {"events": 1, "owner_ids": [9]}}]
    first, second, third = airflow.event_posts
    assert second - first >= 0.2 and third - second >= 0.4  # exponential: base, then twice the base
    assert airflow.token_requests == 3  # a failed attempt logs in again (the token may have expired)


def test_a_burst_is_given_up_after_three_attempts(airflow) -> None:
    airflow.fail_events = 10**6
    notifier = notifier_for(airflow, retry_base_s=0.01)
    notifier.start()
    try:
        notifier.poke(parse_event(event()))
        wait_for(lambda: notifier.failures == 1)
    finally:
        notifier.stop()
    assert len(airflow.event_posts) == SEND_ATTEMPTS == 3
    assert notifier.sent == 0


def test_stop_during_a_backoff_returns_at_once_without_another_attempt(airflow) -> None:
    airflow.fail_events = 10**6
    notifier = notifier_for(airflow, retry_base_s=60)  # the backoff would last a minute
    notifier.start()
    notifier.poke(parse_event(event()))
    wait_for(lambda: len(airflow.event_posts) == 1)
    t0 = time.monotonic()
    notifier.stop()
    assert time.monotonic() - t0 < 3
    assert not notifier._thread.is_alive()
    assert len(airflow.event_posts) == 1
    assert notifier.failures == 1
