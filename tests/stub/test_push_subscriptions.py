"""Push subscriptions on the stub: the callback is validated over real HTTP, one per application."""

from __future__ import annotations

from datetime import datetime

import requests
from stub_support import CallbackServer, StubSession

from pipeline.strava_stub import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, StubServer, World

APP = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}


def _subscribe(stub: StubServer, callback_url: str, verify_token: str = "s3cret-verify") -> requests.Response:
    form = {**APP, "callback_url": callback_url, "verify_token": verify_token}
    return requests.post(stub.api_url + "/push_subscriptions", data=form, timeout=10)


def test_creating_a_subscription_validates_the_callback_with_a_challenge(stub: StubServer) -> None:
    with CallbackServer() as callback:
        answer = _subscribe(stub, callback.url)
    assert answer.status_code == 201 and answer.json() == {"id": 1}
    (check,) = callback.validations
    assert check["hub.mode"] == "subscribe" and check["hub.verify_token"] == "s3cret-verify" and check["hub.challenge"]
    assert [s["callback_url"] for s in stub.subscriptions()] == [callback.url]


def test_a_callback_that_does_not_echo_the_challenge_is_refused(stub: StubServer) -> None:
    with CallbackServer() as callback:
        answer = _subscribe(stub, callback.url, verify_token="wrong")
    assert answer.status_code == 400
    assert answer.json()["errors"][0] == {
        "resource": "PushSubscription",
        "field": "callback url",
        "code": "not verifiable",
    }
    assert stub.subscriptions() == []


def test_an_unreachable_callback_is_refused(stub: StubServer) -> None:
    assert _subscribe(stub, "http://127.0.0.1:9/webhook").status_code == 400


def test_only_one_subscription_per_application(stub: StubServer) -> None:
    with CallbackServer() as callback:
        assert _subscribe(stub, callback.url).status_code == 201
        again = _subscribe(stub, callback.url)
    assert again.status_code == 400 and again.json()["errors"][0]["code"] == "already exists"


def test_list_and_delete_need_the_application_credentials(stub: StubServer) -> None:
    with CallbackServer() as callback:
        _subscribe(stub, callback.url)
    assert (
        requests.get(stub.api_url + "/push_subscriptions", params={**APP, "client_secret": "x"}, timeout=10).status_code
        == 401
    )
    listed = requests.get(stub.api_url + "/push_subscriptions", params=APP, timeout=10).json()
    assert [s["id"] for s in listed] == [1]
    assert requests.delete(stub.api_url + "/push_subscriptions/1", data=APP, timeout=10).status_code == 204
    assert requests.delete(stub.api_url + "/push_subscriptions/1", data=APP, timeout=10).status_code == 404
    assert stub.subscriptions() == []


def test_stravalib_subscription_helpers_work_against_the_stub(stub: StubServer) -> None:
    from stravalib import Client

    client = Client(requests_session=StubSession(stub.base_url))
    with CallbackServer(verify_token="STRAVA") as callback:
        created = client.create_subscription(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, callback.url, "STRAVA")
    assert created.id == 1
    assert [s.id for s in client.list_subscriptions(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)] == [1]
    client.delete_subscription(1, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    assert stub.subscriptions() == []


def test_events_are_posted_to_the_subscribed_callback(stub: StubServer, world: World) -> None:
    with CallbackServer() as callback:
        _subscribe(stub, callback.url)
        run = world.add_activity(1001, world.new_run(1001, datetime(2026, 11, 25, 20, 0), 5.0))
        assert stub.push_event("activity", run["id"], "create", 1001) == 200
        over_http = requests.post(
            stub.base_url + "/_stub/events",
            json={"object_type": "athlete", "object_id": 1001, "aspect_type": "update", "owner_id": 1001,
                  "updates": {"authorized": "false"}},
            timeout=10,
        )  # fmt: skip
    assert over_http.json() == {"callback_status": 200}
    first, second = callback.events
    assert first["object_id"] == run["id"] and first["aspect_type"] == "create" and first["subscription_id"] == 1
    assert second["updates"] == {"authorized": "false"} and second["object_type"] == "athlete"
    assert stub.events_sent == callback.events
