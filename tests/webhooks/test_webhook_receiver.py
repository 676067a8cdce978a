"""The receiver answers Strava's handshake and queues well-formed events durably."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from webhook_support import SUBSCRIPTION_ID, VERIFY_TOKEN, event

from pipeline.config import Settings
from pipeline.webhooks.events import MAX_BODY_BYTES, EventError, parse_body
from pipeline.webhooks.inbox import Inbox, read_inbox_files
from pipeline.webhooks.receiver import WEBHOOK_PATH, create_app


@pytest.fixture
def client(settings: Settings) -> TestClient:
    with TestClient(create_app(settings)) as c:
        yield c


def queued(settings: Settings) -> list[dict]:
    inbox = Inbox(settings.inbox_dir)
    events, _ = read_inbox_files([inbox.path] if inbox.path.exists() else [])
    return [e.to_json() for e, _ in events]


def test_handshake_echoes_the_challenge_when_the_verify_token_matches(client: TestClient) -> None:
    r = client.get(
        WEBHOOK_PATH,
        params={"hub.mode": "subscribe", "hub.challenge": "abc123", "hub.verify_token": VERIFY_TOKEN},
    )
    assert r.status_code == 200
    assert r.json() == {"hub.challenge": "abc123"}


def test_handshake_with_a_wrong_verify_token_is_forbidden(client: TestClient) -> None:
    r = client.get(
        WEBHOOK_PATH, params={"hub.mode": "subscribe", "hub.challenge": "abc123", "hub.verify_token": "nope"}
    )
    assert r.status_code == 403
    assert "abc123" not in r.text


def test_handshake_is_forbidden_when_no_verify_token_is_configured(settings: Settings) -> None:
    from dataclasses import replace

    with TestClient(create_app(replace(settings, verify_token=None))) as c:
        r = c.get(WEBHOOK_PATH, params={"hub.mode": "subscribe", "hub.challenge": "x", "hub.verify_token": ""})
    assert r.status_code == 403


def test_a_well_formed_event_is_queued_and_answered_200(client: TestClient, settings: Settings) -> None:
    r = client.post(WEBHOOK_PATH, json=event())
    assert r.status_code == 200
    assert queued(settings) == [event()]


def test_malformed_json_is_a_400_and_nothing_is_queued(client: TestClient, settings: Settings) -> None:
    r = client.post(WEBHOOK_PATH, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert queued(settings) == []


@pytest.mark.parametrize(
    "missing", ["object_type", "object_id", "aspect_type", "owner_id", "subscription_id", "event_time"]
)
def test_an_event_missing_a_field_is_a_400(client: TestClient, settings: Settings, missing: str) -> None:
    body = event()
    del body[missing]
    r = client.post(WEBHOOK_PATH, json=body)
    assert r.status_code == 400
    assert missing in r.json()["error"]
    assert queued(settings) == []


@pytest.mark.parametrize(
    "bad", [{"object_id": "1001"}, {"object_type": "route"}, {"aspect_type": "rename"}, {"updates": [1]}]
)
def test_an_event_with_a_wrong_value_is_a_400(client: TestClient, bad: dict) -> None:
    assert client.post(WEBHOOK_PATH, json=event(**bad)).status_code == 400


def test_a_body_over_64_kb_is_a_413(client: TestClient, settings: Settings) -> None:
    big = json.dumps(event(updates={"title": "x" * MAX_BODY_BYTES})).encode()
    r = client.post(WEBHOOK_PATH, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert queued(settings) == []


def test_a_chunked_body_over_64_kb_is_a_413(client: TestClient, settings: Settings) -> None:
    def chunks():  # no content-length: the limit must hold while streaming
        yield b'{"updates": {"title": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}}'

    r = client.post(WEBHOOK_PATH, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_an_unknown_subscription_id_is_forbidden(client: TestClient, settings: Settings) -> None:
    r = client.post(WEBHOOK_PATH, json=event(subscription_id=SUBSCRIPTION_ID + 1))
    assert r.status_code == 403
    assert queued(settings) == []


def test_a_subscription_id_from_the_environment_is_accepted(settings: Settings) -> None:
    with TestClient(create_app(settings, env={"STRAVA_SUBSCRIPTION_ID": "99, 100"})) as c:
        assert c.post(WEBHOOK_PATH, json=event(subscription_id=100)).status_code == 200


def test_duplicate_deliveries_are_accepted(client: TestClient, settings: Settings) -> None:
    for _ in range(3):  # Strava retries up to three times
        assert client.post(WEBHOOK_PATH, json=event()).status_code == 200
    assert len(queued(settings)) == 3  # deduplicated when processed, not when received


def test_inbox_files_are_private(client: TestClient, settings: Settings) -> None:
    client.post(WEBHOOK_PATH, json=event())
    assert (Inbox(settings.inbox_dir).path.stat().st_mode & 0o077) == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(sorted(event())), json_values, max_size=8) | json_values)
@hypothesis_settings(max_examples=300, deadline=None)
def test_any_json_body_is_an_event_or_a_client_error_never_a_crash(raw: object) -> None:
    try:
        parse_body(json.dumps(raw).encode())
    except EventError as e:
        assert e.status in (400, 413)


@given(st.binary(max_size=200))
@hypothesis_settings(max_examples=200, deadline=None)
def test_any_bytes_are_an_event_or_a_client_error(body: bytes) -> None:
    try:
        parse_body(body)
    except EventError as e:
        assert e.status in (400, 413)
