"""OAuth on the stub: token refresh with rotation, code exchange, revocation, bad credentials."""

from __future__ import annotations

import pytest
import requests
from stravalib import Client, exc
from stub_support import StubSession

from pipeline.strava_stub import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, StubServer, World


def _refresh(stub: StubServer, refresh_token: str, **overrides: object) -> requests.Response:
    form = {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        **overrides,
    }
    return requests.post(stub.base_url + "/oauth/token", data=form, timeout=10)


def test_refresh_gives_a_bearer_token_that_expires_in_six_hours(stub: StubServer, world: World) -> None:
    answer = _refresh(stub, world.by_persona("steady").refresh_token)
    body = answer.json()
    assert answer.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 21600
    assert body["expires_at"] - body["expires_in"] == pytest.approx(stub.clock(), abs=5)
    me = requests.get(
        stub.api_url + "/athlete", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=10
    )
    assert me.json()["id"] == 1001


def test_refresh_rotates_the_refresh_token_and_the_old_one_stops_working(stub: StubServer, world: World) -> None:
    old = world.by_persona("spiker").refresh_token
    new = _refresh(stub, old).json()["refresh_token"]
    assert new != old
    rejected = _refresh(stub, old)
    assert rejected.status_code == 400
    assert rejected.json()["errors"][0] == {"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}
    assert _refresh(stub, new).status_code == 200


def test_without_rotation_the_same_refresh_token_keeps_working(world: World) -> None:
    with StubServer(world, rotate_refresh_tokens=False) as stub:
        token = world.by_persona("fader").refresh_token
        assert _refresh(stub, token).json()["refresh_token"] == token
        assert _refresh(stub, token).status_code == 200


def test_json_bodies_are_accepted_like_forms(stub: StubServer, world: World) -> None:
    answer = requests.post(
        stub.base_url + "/oauth/token",
        json={
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
            "grant_type": "refresh_token",
            "refresh_token": world.by_persona("niggle").refresh_token,
        },
        timeout=10,
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [({"client_secret": "wrong"}, 401, "client_secret"), ({"client_id": 1}, 400, "client_id")],
)
def test_wrong_client_credentials_are_refused_strava_style(
    stub: StubServer, world: World, overrides: dict, status: int, field: str
) -> None:
    answer = _refresh(stub, world.by_persona("steady").refresh_token, **overrides)
    assert answer.status_code == status
    assert answer.json()["errors"][0]["field"] == field and answer.json()["message"]


def test_code_exchange_returns_tokens_and_the_athlete_summary(stub: StubServer, world: World) -> None:
    niggle = world.by_persona("niggle")
    client = Client(requests_session=StubSession(stub.base_url))
    info, athlete = client.exchange_code_for_token(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, niggle.auth_code, True)
    assert athlete.id == niggle.athlete_id and athlete.firstname == "Jonas"
    assert client.get_athlete().id == niggle.athlete_id
    assert _refresh(stub, info["refresh_token"]).status_code == 200


def test_an_unknown_code_is_refused(stub: StubServer) -> None:
    client = Client(requests_session=StubSession(stub.base_url))
    with pytest.raises(exc.Fault):
        client.exchange_code_for_token(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, "not-a-code")


def test_stravalib_refreshes_through_the_stub_and_keeps_the_new_refresh_token(stub: StubServer, world: World) -> None:
    client = Client(requests_session=StubSession(stub.base_url))
    info = client.refresh_access_token(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, world.by_persona("steady").refresh_token)
    assert client.refresh_token == info["refresh_token"] != world.by_persona("steady").refresh_token
    assert client.get_athlete().firstname == "Hannah"


def test_revoking_an_athlete_kills_refresh_and_access_tokens_until_they_authorise_again(
    stub: StubServer, world: World
) -> None:
    fader = world.by_persona("fader")
    tokens = _refresh(stub, fader.refresh_token).json()
    stub.revoke(fader.athlete_id)
    assert _refresh(stub, tokens["refresh_token"]).status_code == 400
    me = requests.get(
        stub.api_url + "/athlete", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=10
    )
    assert me.status_code == 401
    client = Client(requests_session=StubSession(stub.base_url))
    client.exchange_code_for_token(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, fader.auth_code)
    assert client.get_athlete().id == fader.athlete_id


def test_revoking_one_refresh_token_leaves_other_athletes_alone(stub: StubServer, world: World) -> None:
    stub.revoke(world.by_persona("steady").refresh_token)
    assert _refresh(stub, world.by_persona("steady").refresh_token).status_code == 400
    assert _refresh(stub, world.by_persona("spiker").refresh_token).status_code == 200


def test_an_expired_access_token_is_refused_until_refreshed(stub: StubServer, world: World) -> None:
    tokens = _refresh(stub, world.by_persona("spiker").refresh_token).json()
    stub.expire_access_tokens()
    header = {"Authorization": f"Bearer {tokens['access_token']}"}
    answer = requests.get(stub.api_url + "/athlete", headers=header, timeout=10)
    assert answer.status_code == 401
    assert answer.json()["errors"][0] == {"resource": "Athlete", "field": "access_token", "code": "invalid"}
    fresh = _refresh(stub, tokens["refresh_token"]).json()["access_token"]
    assert requests.get(stub.api_url + "/athlete", headers={"Authorization": f"Bearer {fresh}"}, timeout=10).ok


def test_access_tokens_expire_by_the_servers_clock(world: World) -> None:
    now = [1_800_000_000.0]
    with StubServer(world, clock=lambda: now[0], access_token_ttl_s=60) as stub:
        token = stub.issue_tokens(1001)["access_token"]
        header = {"Authorization": f"Bearer {token}"}
        assert requests.get(stub.api_url + "/athlete", headers=header, timeout=10).ok
        now[0] += 61
        assert requests.get(stub.api_url + "/athlete", headers=header, timeout=10).status_code == 401


def test_deauthorize_revokes_the_athlete(stub: StubServer) -> None:
    token = stub.issue_tokens(1003)["access_token"]
    answer = requests.post(stub.base_url + "/oauth/deauthorize", data={"access_token": token}, timeout=10)
    assert answer.status_code == 200
    assert (
        requests.get(stub.api_url + "/athlete", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code
        == 401
    )
    assert stub.refresh_token_of(1003) is None


def test_the_consent_page_lists_the_demo_athletes(stub: StubServer) -> None:
    page = requests.get(
        stub.base_url + "/oauth/authorize",
        params={"client_id": DEMO_CLIENT_ID, "redirect_uri": "http://127.0.0.1:9/cb", "response_type": "code"},
        timeout=10,
    )
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Diego Ramírez (spiker)" in page.text and page.text.count("<li>") == 4


def test_authorizing_redirects_with_the_athletes_code_and_state(stub: StubServer, world: World) -> None:
    answer = requests.get(
        stub.base_url + "/oauth/authorize",
        params={
            "client_id": DEMO_CLIENT_ID,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "scope": "read,activity:read_all",
            "state": "xyz",
            "athlete": "fader",
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith("http://127.0.0.1:9/cb?") and "state=xyz" in location
    assert f"code={world.by_persona('fader').auth_code}" in location and "scope=read%2Cactivity%3Aread_all" in location


def test_authorizing_another_application_is_refused(stub: StubServer) -> None:
    answer = requests.get(
        stub.base_url + "/oauth/authorize", params={"client_id": 1, "redirect_uri": "http://127.0.0.1:9/cb"}, timeout=10
    )
    assert answer.status_code == 400
