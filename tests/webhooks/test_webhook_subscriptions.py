"""Subscription management through stravalib against the local Strava stub, which checks the
receiver's handshake exactly like Strava before it creates a subscription."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import uvicorn

from pipeline.config import Settings
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, synthetic_world
from pipeline.strava_stub.server import StubServer
from pipeline.webhooks.receiver import WEBHOOK_PATH, create_app
from pipeline.webhooks.subscriptions import (
    list_subscriptions,
    read_subscription_ids,
    subscribe,
    subscription_file,
    unsubscribe,
)


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(synthetic_world(n_athletes=1, activities_per_athlete=1)) as server:
        yield server


@pytest.fixture
def app_settings(settings: Settings, stub: StubServer) -> Settings:
    subscription_file(settings).unlink()  # start with no known subscription
    return replace(settings, strava_base_url=stub.base_url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)


@pytest.fixture
def callback(app_settings: Settings) -> Iterator[str]:
    """The receiver under uvicorn; yields its callback URL."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(app_settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    server.should_exit = True
    thread.join(timeout=10)


def test_subscribe_passes_the_handshake_and_remembers_the_id(
    app_settings: Settings, stub: StubServer, callback: str
) -> None:
    sub = subscribe(app_settings, callback)
    assert [s["id"] for s in stub.subscriptions()] == [sub.id]
    assert read_subscription_ids(app_settings) == {sub.id}


def test_events_of_the_new_subscription_are_accepted(app_settings: Settings, stub: StubServer, callback: str) -> None:
    subscribe(app_settings, callback)
    assert stub.push_event("activity", 1, "create", 5001) == 200


def test_subscribe_fails_when_the_receiver_has_another_verify_token(
    app_settings: Settings, stub: StubServer, callback: str
) -> None:
    with pytest.raises(Exception, match="not verifiable"):
        subscribe(replace(app_settings, verify_token="something-else"), callback)
    assert stub.subscriptions() == [] and read_subscription_ids(app_settings) == set()


def test_list_shows_the_subscription(app_settings: Settings, callback: str) -> None:
    sub = subscribe(app_settings, callback)
    assert [(s.id, s.callback_url) for s in list_subscriptions(app_settings)] == [(sub.id, callback)]


def test_after_unsubscribe_its_events_are_refused(app_settings: Settings, stub: StubServer, callback: str) -> None:
    sub = subscribe(app_settings, callback)
    unsubscribe(app_settings, sub.id)
    assert stub.subscriptions() == []
    event = {
        "object_type": "activity",
        "object_id": 1,
        "aspect_type": "create",
        "owner_id": 5001,
        "subscription_id": sub.id,
        "event_time": 1,
    }
    assert httpx.post(callback, json=event).status_code == 403


def test_the_list_command_prints_no_secret(app_settings: Settings, callback: str) -> None:
    subscribe(app_settings, callback)
    env = {
        **os.environ,
        "BACKSTRIDE_HOME": str(app_settings.home),
        "STRAVA_BASE_URL": app_settings.strava_base_url,
        "STRAVA_CLIENT_ID": str(DEMO_CLIENT_ID),
        "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
    }
    cli = str(Path(sys.executable).with_name("backstride"))
    done = subprocess.run([cli, "webhook", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert callback in done.stdout
    assert DEMO_CLIENT_SECRET not in done.stdout + done.stderr
