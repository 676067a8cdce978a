"""`WebhookEvent` (pydantic, strict): what Strava sends is accepted as sent; anything else is a 400
naming the first problem, in a fixed order (missing fields, ids, object_type, aspect_type, updates)."""

from __future__ import annotations

import pytest
from webhook_support import event

from pipeline.webhooks.events import EventError, WebhookEvent, parse_event

# Strava's documented deauthorization event (developers.strava.com, "Webhook Events API").
STRAVA_DEAUTHORIZATION = {
    "aspect_type": "update",
    "event_time": 1516126040,
    "object_id": 1,
    "object_type": "athlete",
    "owner_id": 1,
    "subscription_id": 120475,
    "updates": {"authorized": "false"},
}


def problem(raw: object) -> str:
    with pytest.raises(EventError) as caught:
        parse_event(raw)
    assert caught.value.status == 400
    return str(caught.value)


def test_a_valid_event_keeps_every_field_as_sent() -> None:
    raw = event(aspect_type="update", updates={"title": "Easy run", "private": True, "type": "Run"})
    assert parse_event(raw).to_json() == raw


def test_strava_deauthorization_event_is_recognised() -> None:
    parsed = parse_event(STRAVA_DEAUTHORIZATION)
    assert parsed.is_deauthorization
    assert not parse_event(event()).is_deauthorization


@pytest.mark.parametrize("updates", [None, {}, [], ""])
def test_absent_or_empty_updates_mean_no_updates(updates: object) -> None:
    assert parse_event(event(updates=updates)).updates == {}
    raw = event()
    del raw["updates"]
    assert parse_event(raw).updates == {}


def test_fields_beyond_strava_s_are_ignored() -> None:
    assert "extra" not in parse_event({**event(), "extra": 1}).to_json()


@pytest.mark.parametrize("value", [0, 2**63 - 1])
def test_ids_span_duckdb_s_bigint(value: int) -> None:
    assert parse_event(event(object_id=value)).object_id == value


@pytest.mark.parametrize("value", ["1001", 1001.0, True, -1, 2**63, None])
def test_an_id_is_a_non_negative_json_integer_and_nothing_is_coerced(value: object) -> None:
    # stravalib's own test event carries "subscription_id": "1"; pydantic's lax mode would take it
    assert problem(event(subscription_id=value)) == "subscription_id must be a non-negative 64-bit integer"


def test_missing_fields_are_all_named_in_a_fixed_order() -> None:
    raw = event(object_id="bad")
    for name in ("event_time", "object_type", "owner_id"):
        del raw[name]
    assert problem(raw) == "missing fields: object_type, owner_id, event_time"


def test_ids_are_checked_before_the_types_and_in_field_order() -> None:
    assert problem(event(object_type="route", event_time=1.5, owner_id=-1)) == (
        "owner_id must be a non-negative 64-bit integer"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"object_type": "route"}, "object_type must be activity or athlete"),
        ({"object_type": 1}, "object_type must be activity or athlete"),
        ({"aspect_type": "rename"}, "aspect_type must be create, update or delete"),
        ({"updates": [1]}, "updates must be an object"),
        ({"updates": {"title": [1]}}, "updates must map field names to plain values (strings, numbers, booleans)"),
        ({"updates": {"title": float("nan")}}, "updates must not hold NaN or infinite numbers"),
        ({"updates": {"distance": float("inf")}}, "updates must not hold NaN or infinite numbers"),
        ({"updates": {"title": "\ud800"}}, "updates must be valid Unicode text (no lone surrogates)"),
        ({"updates": {"\udfff": "x"}}, "updates must be valid Unicode text (no lone surrogates)"),
    ],
)
def test_each_wrong_value_has_its_message(overrides: dict, message: str) -> None:
    assert problem(event(**overrides)) == message


def test_the_first_bad_entry_of_updates_decides_the_message() -> None:
    assert problem(event(updates={"a": "\ud800", "b": [1]})) == (
        "updates must be valid Unicode text (no lone surrogates)"
    )
    assert problem(event(updates={"\ud800": [1]})) == (
        "updates must map field names to plain values (strings, numbers, booleans)"
    )


@pytest.mark.parametrize("raw", [None, [], "event", 7])
def test_an_event_is_a_json_object(raw: object) -> None:
    assert problem(raw) == "event must be a JSON object"


def test_redeliveries_share_a_dedupe_key_and_a_changed_update_does_not() -> None:
    a, b = parse_event(event()), parse_event(event())
    assert a.dedupe_key == b.dedupe_key
    assert parse_event(event(updates={"title": "x"})).dedupe_key != a.dedupe_key


def test_an_event_is_immutable() -> None:
    parsed = parse_event(event())
    with pytest.raises(ValueError):
        parsed.owner_id = 8  # type: ignore[misc]
    assert isinstance(parsed, WebhookEvent)
