"""Hostile bodies get a short JSON 4xx from the receiver, never a 5xx, and nothing is queued.

Found by trying: a body nested 5,000 arrays deep answered 500 (a RecursionError in Python's
JSON decoder). Each class of bad body is here, through FastAPI's TestClient and, for the
deepest ones, through a real uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from loopback_support import free_port
from webhook_support import event

from pipeline.config import Settings
from pipeline.webhooks.events import MAX_BODY_BYTES, MAX_DEPTH, EventError, parse_body
from pipeline.webhooks.inbox import Inbox
from pipeline.webhooks.receiver import WEBHOOK_PATH, create_app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def queued(settings: Settings) -> int:
    inbox = Inbox(settings.inbox_dir)
    return len(inbox.path.read_text().splitlines()) if inbox.path.exists() else 0


def post(client: TestClient, body: bytes, content_type: str | None = "application/json") -> httpx.Response:
    headers = {"content-type": content_type} if content_type else {}
    return client.post(WEBHOOK_PATH, content=body, headers=headers)


def deep_event(depth: int, opener: str = "[", closer: str = "]") -> bytes:
    """A well-formed event whose `updates.title` holds `depth` nested arrays (or objects)."""
    inner = (opener * depth) + (closer * depth) if opener == "[" else ('{"a":' * depth) + "1" + ("}" * depth)
    return json.dumps(event(updates={"title": "PLACEHOLDER"})).replace('"PLACEHOLDER"', inner).encode()


HOSTILE_BODIES = {
    "5,000 nested arrays": b"[" * 5000 + b"]" * 5000,
    "5,000 nested objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "32,000 unclosed arrays": b"[" * 32000,
    "an event with 5,000 nested arrays in updates": deep_event(5000),
    "an event with 2,000 nested objects in updates": deep_event(2000, "{", "}"),
    "an integer of 5,000 digits": b"9" * 5000,
    "an event id of 5,000 digits": json.dumps(event()).replace("1001", "9" * 5000).encode(),
    "an event id above 2**63": json.dumps(event(object_id=2**64)).encode(),
    "NaN": b"NaN",
    "an event time of Infinity": json.dumps(event()).replace("1700000000", "Infinity").encode(),
    "NaN in updates": json.dumps(event()).replace('"updates": {}', '"updates": {"title": NaN}').encode(),
    "UTF-16": json.dumps(event()).encode("utf-16"),
    "UTF-32": json.dumps(event()).encode("utf-32"),
    "a UTF-8 byte order mark": b"\xef\xbb\xbf" + json.dumps(event()).encode(),
    "latin-1 bytes": json.dumps(event(updates={"title": "café"}), ensure_ascii=False).encode("latin-1"),
    "a lone surrogate in updates": json.dumps(event(updates={"title": "\ud800"})).encode(),
    "a lone surrogate as an updates key": json.dumps(event(updates={"\udfff": "x"})).encode(),
    "updates holding a list": json.dumps(event(updates={"title": [1, 2]})).encode(),
    "updates holding an object": json.dumps(event(updates={"title": {"nested": True}})).encode(),
    "a string where an id belongs": json.dumps(event(owner_id="7")).encode(),
    "a boolean where an id belongs": json.dumps(event(owner_id=True)).encode(),
    "a float where an id belongs": json.dumps(event(owner_id=7.0)).encode(),
    "a negative id": json.dumps(event(owner_id=-7)).encode(),
    "null": b"null",
    "an array of events": json.dumps([event()]).encode(),
    "an empty body": b"",
    "only whitespace": b" \n\t ",
    "a NUL byte": b"\x00",
    "truncated JSON": json.dumps(event()).encode()[:-3],
    "two events back to back": json.dumps(event()).encode() * 2,
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_a_hostile_body_gets_a_400_with_a_short_json_error_and_nothing_is_queued(
    client: TestClient, settings: Settings, body: bytes
) -> None:
    r = post(client, body)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/json"
    error = r.json()["error"]
    assert isinstance(error, str) and 0 < len(error) <= 120
    assert queued(settings) == 0


def test_a_body_nested_just_within_the_limit_is_still_parsed(client: TestClient, settings: Settings) -> None:
    # Depth 2 is the event itself and its `updates`; a title of MAX_DEPTH - 2 arrays is still JSON we read,
    # refused only because updates must hold plain values: the depth guard did not fire.
    r = post(client, deep_event(MAX_DEPTH - 2))
    assert r.status_code == 400 and "plain values" in r.json()["error"]
    r = post(client, deep_event(MAX_DEPTH - 1))
    assert r.status_code == 400 and "deeper" in r.json()["error"]


def test_brackets_inside_strings_do_not_count_as_nesting(client: TestClient, settings: Settings) -> None:
    title = '[{"\\"' * 2000  # brackets, quotes and escaped quotes, all inside one string
    r = post(client, json.dumps(event(updates={"title": title})).encode())
    assert r.status_code == 200, r.text
    assert queued(settings) == 1


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"],
)
def test_a_body_that_is_not_json_by_its_content_type_is_a_415(
    client: TestClient, settings: Settings, content_type: str
) -> None:
    r = post(client, json.dumps(event()).encode(), content_type)
    assert r.status_code == 415
    assert "application/json" in r.json()["error"]
    assert queued(settings) == 0


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "iso-8859-1"])
def test_json_declared_in_another_charset_is_a_415(client: TestClient, settings: Settings, charset: str) -> None:
    r = post(client, json.dumps(event()).encode(), f"application/json; charset={charset}")
    assert r.status_code == 415
    assert "UTF-8" in r.json()["error"]


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json; charset=utf-8", "Application/JSON; charset=UTF-8"]
)
def test_strava_style_events_are_accepted_with_or_without_a_json_content_type(
    client: TestClient, settings: Settings, content_type: str | None
) -> None:
    r = post(client, json.dumps(event()).encode(), content_type)
    assert r.status_code == 200, r.text
    assert queued(settings) == 1


def test_parse_body_raises_only_event_errors_with_a_4xx() -> None:
    for body in [*HOSTILE_BODIES.values(), b"x" * (MAX_BODY_BYTES + 1)]:
        with pytest.raises(EventError) as caught:
            parse_body(body)
        assert caught.value.status in (400, 413)


def test_deep_bodies_through_a_real_uvicorn_server_get_400_and_the_server_keeps_answering(
    settings: Settings,
) -> None:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        headers = {"content-type": "application/json"}
        for name in ("5,000 nested arrays", "5,000 nested objects", "an integer of 5,000 digits", "UTF-16"):
            r = httpx.post(url, content=HOSTILE_BODIES[name], headers=headers, timeout=10)
            assert r.status_code == 400, (name, r.text)
            assert "error" in r.json()
        r = httpx.post(url, json=event(), timeout=10)
        assert r.status_code == 200
        assert queued(settings) == 1
    finally:
        server.should_exit = True
        thread.join(timeout=10)
