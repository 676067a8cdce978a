"""Property-based tests of the webhook receiver: whatever arrives, never a 5xx; garbage gets
a 4xx; well-formed events are kept durably, and duplicates are processed once."""

from __future__ import annotations

import json
import string

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import load_settings
from pipeline.webhooks import WEBHOOK_PATH, Inbox, create_app, read_inbox_files, save_subscription_id

SUBSCRIPTION = 31337
VERIFY = "let-me-in"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=25,
)
events = st.fixed_dictionaries(
    {
        "object_type": st.sampled_from(["activity", "athlete"]),
        "object_id": st.integers(min_value=1, max_value=2**53),
        "aspect_type": st.sampled_from(["create", "update", "delete"]),
        "owner_id": st.integers(min_value=1, max_value=2**40),
        "subscription_id": st.just(SUBSCRIPTION),
        "event_time": st.integers(min_value=1_500_000_000, max_value=2_000_000_000),
        "updates": st.dictionaries(
            st.sampled_from(["title", "type", "private", "authorized"]), st.text(max_size=20), max_size=3
        ),
    }
)


def make_client(tmp_path_factory) -> tuple[TestClient, object]:
    home = tmp_path_factory.mktemp("webhook")
    s = load_settings({"BACKSTRIDE_HOME": str(home), "STRAVA_VERIFY_TOKEN": VERIFY})
    save_subscription_id(s, SUBSCRIPTION)
    return TestClient(create_app(s, env={})), s


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values.map(json.dumps), st.binary(max_size=300).map(lambda b: b.decode("latin-1"))))
def test_any_body_gets_an_answer_below_500(tmp_path_factory, body):
    client, _ = make_client(tmp_path_factory)
    response = client.post(
        WEBHOOK_PATH, content=body.encode("utf-8", "surrogatepass"), headers={"content-type": "application/json"}
    )
    assert response.status_code < 500
    assert response.status_code in (200, 400, 403, 413, 422)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(
        st.sampled_from(["hub.mode", "hub.challenge", "hub.verify_token", "x", ""]),
        st.text(alphabet=string.printable, max_size=30),
        max_size=4,
    )
)
def test_any_handshake_query_gets_an_answer_below_500_and_only_the_right_token_is_echoed(tmp_path_factory, query):
    client, _ = make_client(tmp_path_factory)
    response = client.get(WEBHOOK_PATH, params=query)
    assert response.status_code < 500
    if response.status_code == 200:
        assert query.get("hub.verify_token") == VERIFY
        assert response.json() == {"hub.challenge": query["hub.challenge"]}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=events)
def test_well_formed_events_are_accepted_and_kept(tmp_path_factory, event):
    client, s = make_client(tmp_path_factory)
    response = client.post(WEBHOOK_PATH, json=event)
    assert response.status_code == 200
    kept, unreadable = read_inbox_files(Inbox(s.inbox_dir).claim())
    assert unreadable == 0
    assert len(kept) == 1 and kept[0][0].object_id == event["object_id"]


# --- hostile bodies (issue 10): depth, huge numbers, wrong types, encodings, content types -----

FIELDS = ["object_type", "object_id", "aspect_type", "owner_id", "subscription_id", "event_time", "updates"]


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    if kind == "object":
        return '{"a":' * depth + "1" + "}" * depth
    return "[" * depth  # unclosed


def with_field(event: dict, name: str, raw_json: str) -> bytes:
    """The event as JSON with one field's value replaced by literal JSON text (which may be invalid)."""
    body = json.dumps({**event, name: "__REPLACED__"})
    return body.replace('"__REPLACED__"', raw_json).encode()


huge_numbers = st.one_of(
    st.integers(min_value=19, max_value=20_000).map(lambda n: "9" * n),  # past int64, past Python's 4,300 digits
    st.integers(min_value=309, max_value=5000).map(lambda e: f"1e{e}"),  # overflows to inf
    st.sampled_from(["NaN", "Infinity", "-Infinity", "-1", "1.5", "0.0", "1e2", "-1e2", "[1]", "{}"]),  # -0 is 0: valid
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    depth=st.integers(min_value=1, max_value=40_000),
    kind=st.sampled_from(["array", "object", "unclosed"]),
    inside_event=st.booleans(),
    event=events,
)
def test_any_nesting_depth_gets_a_4xx_never_a_5xx(tmp_path_factory, depth, kind, inside_event, event):
    client, s = make_client(tmp_path_factory)
    text = nested(depth, kind)
    body = with_field(event, "updates", '{"title": ' + text + "}") if inside_event else text.encode()
    response = client.post(WEBHOOK_PATH, content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 413), response.text
    assert "error" in response.json()
    assert not Inbox(s.inbox_dir).has_events()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=events, name=st.sampled_from(FIELDS[1:2] + FIELDS[3:6]), number=huge_numbers)
def test_huge_and_odd_numbers_in_an_id_get_a_4xx(tmp_path_factory, event, name, number):
    client, s = make_client(tmp_path_factory)
    response = client.post(
        WEBHOOK_PATH, content=with_field(event, name, number), headers={"content-type": "application/json"}
    )
    assert response.status_code in (400, 413), response.text
    assert not Inbox(s.inbox_dir).has_events()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=events, name=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field_is_accepted_only_if_it_makes_a_valid_event(tmp_path_factory, event, name, value):
    from pipeline.webhooks import EventError, parse_event

    client, s = make_client(tmp_path_factory)
    raw = {**event, name: value}
    response = client.post(WEBHOOK_PATH, content=json.dumps(raw), headers={"content-type": "application/json"})
    try:
        parse_event(raw)
        valid = True
    except EventError:
        valid = False
    assert response.status_code == (200 if valid else 400), response.text
    assert Inbox(s.inbox_dir).has_events() == valid


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    event=events,
    encoding=st.sampled_from(["utf-16", "utf-16-le", "utf-32", "utf-8-sig", "latin-1", "cp1252"]),
    content_type=st.one_of(
        st.none(),
        st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1", "text/html"]),
        st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=40),
    ),
)
def test_any_encoding_and_content_type_gets_an_answer_below_500(tmp_path_factory, event, encoding, content_type):
    client, _ = make_client(tmp_path_factory)
    body = json.dumps({**event, "updates": {"title": "Lauf am Fluß, café"}}, ensure_ascii=False).encode(encoding)
    headers = {} if content_type is None else {"content-type": content_type}
    response = client.post(WEBHOOK_PATH, content=body, headers=headers)
    assert response.status_code in (400, 413, 415), response.text  # only UTF-8 JSON is an event
    assert "error" in response.json()


garbage = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda d, k: nested(d, k).encode(), st.integers(1, 20_000), st.sampled_from(["array", "object"])),
    st.builds(lambda e, n, v: with_field(e, n, v), events, st.sampled_from(FIELDS[1:2] + FIELDS[3:6]), huge_numbers),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    deliveries=st.lists(
        st.one_of(events.map(lambda e: ("event", e)), garbage.map(lambda g: ("garbage", g))), max_size=12
    )
)
def test_valid_events_among_garbage_arrive_in_the_inbox_exactly_once(tmp_path_factory, deliveries):
    from pipeline.webhooks import EventError, parse_body

    client, s = make_client(tmp_path_factory)
    expected = []
    for kind, item in deliveries:
        body = json.dumps(item).encode() if kind == "event" else item
        response = client.post(WEBHOOK_PATH, content=body, headers={"content-type": "application/json"})
        assert response.status_code < 500
        try:
            parsed = parse_body(body)
        except EventError:
            parsed = None
        if parsed is not None and parsed.subscription_id == SUBSCRIPTION:  # garbage may be an event by chance
            assert response.status_code == 200
            expected.append(parsed.to_json())
        elif parsed is not None:
            assert response.status_code == 403
        else:
            assert response.status_code in (400, 413), response.text
    kept, unreadable = read_inbox_files(Inbox(s.inbox_dir).claim())
    assert unreadable == 0
    assert [e.to_json() for e, _ in kept] == expected
