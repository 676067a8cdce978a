"""Strava's OAuth endpoints: the consent page, the token exchange and refresh, deauthorize."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pipeline.strava_stub.answers import BAD_TOKEN_BODY, NOT_FOUND_BODY, Answer, client_id_of, error, with_query


@dataclass
class Page:
    """A non-JSON answer: a redirect or an HTML page (`raw`), or a JSON `body`."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


def oauth_route(stub: Any, method: str, path: str, params: dict[str, Any], bearer: str | None) -> Answer:
    """POST /oauth/token and POST /oauth/deauthorize."""
    if path == "/oauth/token" and method == "POST":
        return _token(stub, params)
    if path == "/oauth/deauthorize" and method == "POST":
        token = str(params.get("access_token") or bearer or "")
        athlete_id = stub._athlete_for_access(token)
        if athlete_id is None:
            return 401, BAD_TOKEN_BODY
        stub.revoke(athlete_id)
        return 200, {"access_token": token}
    return 404, NOT_FOUND_BODY


def _token(stub: Any, params: dict[str, Any]) -> Answer:
    """The token exchange: an authorization code or a refresh token for new tokens."""
    if client_id_of(params) != stub.client_id:
        return 400, error("Bad Request", "Application", "client_id", "invalid")
    if params.get("client_secret") != stub.client_secret:
        return 401, error("Authorization Error", "Application", "client_secret", "invalid")
    grant = params.get("grant_type")
    with stub._lock:
        if grant == "refresh_token":
            token = str(params.get("refresh_token") or "")
            athlete_id = stub._refresh.get(token)
            if athlete_id is None:
                return 400, error("Bad Request", "RefreshToken", "refresh_token", "invalid")
            return 200, stub._issue(athlete_id, token)
        if grant == "authorization_code":
            athlete_id = stub._codes.get(str(params.get("code") or ""))
            if athlete_id is None:
                return 400, error("Bad Request", "AuthorizationCode", "code", "invalid")
            answer = stub._issue(athlete_id, None)
            answer["athlete"] = stub.world.athletes[athlete_id].summary
            return 200, answer
    return 400, error("Bad Request", "Application", "grant_type", "invalid")


def authorize_page(stub: Any, query: dict[str, str]) -> Page:
    """Strava's consent page, for a local `auth` flow: pick a demo athlete and be
    redirected to `redirect_uri` with their code, as Strava does after "Authorize"."""
    redirect = query.get("redirect_uri") or ""
    if query.get("client_id") != str(stub.client_id) or not redirect.startswith(("http://", "https://")):
        return Page(400, error("Bad Request", "Application", "client_id", "invalid"))
    chosen = query.get("athlete")
    if chosen:
        athlete = next(
            (a for a in stub.world.athletes.values() if chosen in (a.persona, str(a.athlete_id))),
            None,
        )
        if athlete is None:
            return Page(404, error("Record Not Found", "Athlete", "athlete", "not found"))
        answer = {"state": query.get("state", ""), "code": athlete.auth_code, "scope": query.get("scope", "read")}
        return Page(302, None, {"Location": with_query(redirect, urlencode(answer))})
    links = "".join(
        f'<li><a href="/oauth/authorize?{html.escape(urlencode({**query, "athlete": a.persona}))}">'
        f"{html.escape(a.profile['firstname'])} {html.escape(a.profile['lastname'])} ({a.persona})</a></li>"
        for a in stub.world.athletes.values()
    )
    page = f"<!doctype html><title>Authorize</title><h1>Authorize this application</h1><ul>{links}</ul>"
    return Page(200, None, raw=page.encode("utf-8"), content_type="text/html; charset=utf-8")
