"""The Strava API through stravalib, pointed at any Strava-compatible server.

stravalib's host is fixed (https://www.strava.com), so `StravaSession` rewrites that origin
to `STRAVA_BASE_URL` on every request (API and OAuth alike) and adds a timeout. Rate limits
are read from the response headers by `Budget`, which never sleeps: when the reserve of a
window is reached (or Strava answers 429) the call raises `Deferred` and the caller records
how far it got. Tokens are refreshed explicitly so the newest refresh token is always saved.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from pipeline.config import AUTH_SCOPES, Settings
from pipeline.tokens import Tokens, save_tokens

os.environ.setdefault("SILENCE_TOKEN_WARNINGS", "true")  # we refresh tokens ourselves

from stravalib import Client, exc

log = logging.getLogger(__name__)
STRAVA_ORIGIN = "https://www.strava.com"


class StravaError(RuntimeError):
    """A Strava call failed for good (after retries)."""


class Deferred(StravaError):
    """The rate-limit budget is spent or Strava answered 429: stop now, resume next run."""


class AuthRevoked(StravaError):
    """The athlete's refresh token no longer works: they must authorise again."""


class MalformedPayload(StravaError):
    """The server answered 2xx with a body that is not valid JSON."""

    def __init__(self, message: str, raw_text: str) -> None:
        super().__init__(message)
        self.raw_text = raw_text


class StravaSession(requests.Session):
    """A requests session that sends stravalib's www.strava.com calls to `base_url`."""

    def __init__(self, base_url: str, timeout_s: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.last_response: requests.Response | None = None
        self.requests_made = 0

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if isinstance(url, str) and url.startswith(STRAVA_ORIGIN):
            url = self.base_url + url[len(STRAVA_ORIGIN) :]
        kwargs.setdefault("timeout", self.timeout_s)
        self.requests_made += 1
        response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        return response


@dataclass
class Budget:
    """stravalib rate-limiter callable: remembers the latest usage; never sleeps.

    Strava's limits are per application, so the numbers come from the headers of the
    latest response, whichever athlete it was for.
    """

    reserve_short: int = 5
    reserve_daily: int = 50
    usage: dict[str, tuple[int, int]] = field(default_factory=dict)  # read|overall -> usage
    limits: dict[str, tuple[int, int]] = field(default_factory=dict)
    requests_seen: int = 0

    def __call__(self, headers: Any, method: str) -> None:
        self.requests_seen += 1
        lower = {k.lower(): v for k, v in dict(headers).items()}
        for kind, prefix in (("read", "x-readratelimit"), ("overall", "x-ratelimit")):
            try:
                usage = tuple(int(v) for v in lower[f"{prefix}-usage"].split(","))
                limit = tuple(int(v) for v in lower[f"{prefix}-limit"].split(","))
            except (KeyError, ValueError):
                continue
            if len(usage) == 2 and len(limit) == 2:
                self.usage[kind] = usage  # type: ignore[assignment]
                self.limits[kind] = limit  # type: ignore[assignment]

    def exhausted(self) -> str | None:
        """Why no further request should be made now, or None."""
        for kind in ("read", "overall"):
            if kind not in self.usage:
                continue
            (short_u, daily_u), (short_l, daily_l) = self.usage[kind], self.limits[kind]
            if short_u >= short_l - min(self.reserve_short, short_l // 4):
                return f"{kind} 15-minute budget spent ({short_u}/{short_l})"
            if daily_u >= daily_l - min(self.reserve_daily, daily_l // 4):
                return f"{kind} daily budget spent ({daily_u}/{daily_l})"
        return None


def make_client(settings: Settings, tokens: Tokens | None = None, budget: Budget | None = None) -> Client:
    """A stravalib Client talking to `settings.strava_base_url`."""
    session = StravaSession(settings.strava_base_url, settings.http_timeout_s)
    client = Client(
        access_token=tokens.access_token if tokens else None,
        refresh_token=tokens.refresh_token if tokens else None,
        token_expires=tokens.expires_at if tokens else None,
        rate_limiter=budget or Budget(settings.reserve_short, settings.reserve_daily),
        requests_session=session,
    )
    # Token refresh is done by `ensure_fresh`, which saves the new refresh token at once.
    client.protocol.client_id = None
    client.protocol.client_secret = None
    return client


def _require_app(settings: Settings) -> tuple[int, str]:
    if settings.client_id is None or not settings.client_secret:
        raise StravaError(
            "STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET must be set (the Strava application's credentials)"
        )
    return settings.client_id, settings.client_secret


def authorization_url(settings: Settings, redirect_uri: str) -> str:
    client_id, _ = _require_app(settings)
    url = Client().authorization_url(
        client_id=client_id, redirect_uri=redirect_uri, scope=AUTH_SCOPES.split(","), approval_prompt="auto"
    )
    if settings.strava_base_url != STRAVA_ORIGIN:
        url = settings.strava_base_url + url[len(STRAVA_ORIGIN) :]
    return url


def exchange_code(settings: Settings, code: str) -> tuple[Tokens, dict | None]:
    """Trade an OAuth code for tokens; returns the tokens and the athlete summary if sent."""
    client_id, secret = _require_app(settings)
    client = make_client(settings)
    try:
        info, _athlete = client.exchange_code_for_token(client_id, secret, code, return_athlete=True)
    except exc.Fault as err:
        raise AuthRevoked(f"Strava refused the authorisation code ({_status(err)})") from None
    raw = client.protocol.rsession.last_response  # type: ignore[attr-defined]
    athlete_json = None
    try:
        athlete_json = raw.json().get("athlete") if raw is not None else None
    except ValueError:
        athlete_json = None
    return Tokens(info["access_token"], info["refresh_token"], int(info["expires_at"])), athlete_json


def _status(err: BaseException) -> str:
    response = getattr(err, "response", None)
    return f"HTTP {response.status_code}" if response is not None else type(err).__name__


def ensure_fresh(
    client: Client, settings: Settings, athlete_id: int | None, tokens: Tokens, force: bool = False
) -> Tokens:
    """Refresh the access token if it expires within 5 minutes; save the newest tokens at once."""
    if not force and tokens.access_token and tokens.expires_at > time.time() + 300:
        return tokens
    client_id, secret = _require_app(settings)
    try:
        info = client.refresh_access_token(client_id, secret, tokens.refresh_token)
    except exc.Fault as err:
        status = getattr(getattr(err, "response", None), "status_code", None)
        if status in (400, 401, 403):
            raise AuthRevoked(
                f"Strava refused the refresh token ({_status(err)}): the athlete must authorise again"
            ) from None
        raise StravaError(f"token refresh failed ({_status(err)})") from None
    except (requests.ConnectionError, requests.Timeout) as err:
        raise StravaError(f"token refresh failed: {type(err).__name__}") from None
    new = Tokens(info["access_token"], info["refresh_token"], int(info["expires_at"]))
    if athlete_id is not None:
        save_tokens(settings, athlete_id, new)
    client.access_token = new.access_token
    return new


@dataclass
class Api:
    """One athlete's API access: raw JSON GETs with budget checks, retries and refresh."""

    client: Client
    settings: Settings
    athlete_id: int | None
    tokens: Tokens
    budget: Budget
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0

    @property
    def last_text(self) -> str:
        """The body of the latest response exactly as the server sent it (for landing)."""
        raw = self.client.protocol.rsession.last_response  # type: ignore[attr-defined]
        return raw.text if raw is not None else ""

    def get(self, path: str, **params: Any) -> Any:
        """GET `path` (under /api/v3) and return the parsed JSON body.

        Raises Deferred (budget, 429, repeated 5xx or timeouts), AuthRevoked,
        MalformedPayload, or stravalib's ObjectNotFound for a 404. 5xx answers and network
        trouble are retried `settings.retries` times with exponential backoff (tenacity);
        every attempt asks the budget first, so retries are spent like any other request.
        """
        auth = _Auth()
        retrying = Retrying(
            stop=stop_after_attempt(self.settings.retries + 1),
            wait=wait_exponential(multiplier=self.settings.backoff_s, exp_base=2, min=0),
            retry=retry_if_exception_type(_Transient),
            sleep=self.sleep,
            before_sleep=lambda state: log.warning(
                "GET %s: %s, retry %d/%d", path, state.outcome.exception(), state.attempt_number, self.settings.retries
            ),
            retry_error_callback=lambda state: _give_up(path, state),
        )
        return retrying(self._attempt, path, params, auth)

    def _attempt(self, path: str, params: dict[str, Any], auth: _Auth) -> Any:
        """One attempt: budget check, token refresh, the request; one re-refresh on a 401."""
        while True:
            reason = self.budget.exhausted()
            if reason:
                raise Deferred(reason)
            self.tokens = ensure_fresh(self.client, self.settings, self.athlete_id, self.tokens)
            try:
                self.requests += 1
                return self.client.protocol.get(path, **params)
            except exc.AccessUnauthorized:
                if auth.refreshed:
                    raise AuthRevoked("Strava rejected the access token after a refresh") from None
                self.tokens = ensure_fresh(self.client, self.settings, self.athlete_id, self.tokens, force=True)
                auth.refreshed = True
            except (exc.ObjectNotFound, exc.RateLimitExceeded, exc.Fault) as err:
                raise _from_fault(path, err) from None
            except (requests.Timeout, requests.ConnectionError) as err:
                raise _Transient(type(err).__name__) from None
            except (json.JSONDecodeError, requests.exceptions.JSONDecodeError) as err:
                raise MalformedPayload(f"GET {path}: body is not valid JSON ({err.msg})", self.last_text) from None
            except RecursionError:
                # Python's JSON decoder gives up on bodies nested a few thousand levels deep
                raise MalformedPayload(
                    f"GET {path}: body nests deeper than the JSON decoder allows", self.last_text
                ) from None


@dataclass
class _Auth:
    """Whether this GET already refreshed the token after a 401 (a second 401 means revoked)."""

    refreshed: bool = False


class _Transient(StravaError):
    """A 5xx answer or network trouble: worth another attempt."""


def _from_fault(path: str, err: Exception) -> Exception:
    """stravalib's error as ours: 404 stays ObjectNotFound, 429 defers, 5xx is retried, others fail."""
    if isinstance(err, exc.ObjectNotFound):
        return err
    if isinstance(err, exc.RateLimitExceeded):
        return Deferred("Strava answered 429 (rate limit exceeded)")
    status = getattr(getattr(err, "response", None), "status_code", 0) or 0
    if status == 429:
        return Deferred("Strava answered 429 (rate limit exceeded)")
    if status < 500:
        return StravaError(f"GET {path}: {_status(err)}")
    return _Transient(f"HTTP {status}")


def _give_up(path: str, state: RetryCallState) -> Any:
    """Retries spent on 5xx or network trouble: defer to the next run."""
    problem = state.outcome.exception() if state.outcome else "no answer"
    raise Deferred(f"GET {path}: {problem} after {state.attempt_number} attempts") from None
