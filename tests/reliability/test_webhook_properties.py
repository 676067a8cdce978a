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
