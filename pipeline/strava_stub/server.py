"""A Strava-compatible HTTP server on 127.0.0.1 serving a `World` of demo athletes.

It implements what backstride calls (OAuth token exchange and refresh, athlete, activity
list with paging/after/before, activity detail, streams, gear, push subscriptions), shaped
like Strava's answers, with Strava's rate-limit headers and 429s. Tests make it misbehave on
purpose: 5xx errors, slow answers, malformed or truncated JSON, 429 mid-paging, dropped
connections and revoked tokens, from Python (`inject`, `revoke`) or over HTTP (`/_stub/...`)
for tests that run the CLI in a subprocess.

Control endpoints (no auth, 127.0.0.1 only, for tests that drive the CLI in a subprocess):
  GET  /_stub/stats                    request counts (as `stats()`)
  POST /_stub/reset                    clear faults, stats and rate-limit usage
  GET|POST|DELETE /_stub/faults        list, add (one spec or a list, see `Fault`), clear
  POST /_stub/limits                   {"short": N, "daily": N, "reset_usage": bool}
  POST /_stub/revoke                   {"athlete_id": N} or {"token": "..."}
  POST /_stub/expire                   {"athlete_id": N} (optional): expire access tokens
  POST /_stub/activities               {"athlete_id": N, "run": {"start_local", "distance_km",
                                       "pace_s_per_km", ...World.new_run options}} or
                                       {"athlete_id": N, "activity": {...raw JSON...}}
  PUT|DELETE /_stub/activities/{id}    {"changes": {...}} / delete
  POST /_stub/events                   {"object_type", "object_id", "aspect_type", "owner_id",
                                       "updates"}: POST a webhook event to the subscription
And GET /oauth/authorize shows a consent page listing the demo athletes; with `athlete=<persona>`
it redirects to `redirect_uri` with that athlete's code, like Strava after "Authorize".

It never logs request bodies, query strings or headers: they carry secrets and tokens.
"""

from __future__ import annotations

import contextlib
import functools
import html
import json
import random
import re
import secrets
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, World, summary_of

FAULT_KINDS = ("status", "slow", "malformed", "truncated", "rate_limit", "disconnect", "response")


def _error(message: str, resource: str, fld: str, code: str = "invalid") -> dict[str, Any]:
    """Strava's error body."""
    return {"message": message, "errors": [{"resource": resource, "field": fld, "code": code}]}


RATE_LIMIT_BODY = _error("Rate Limit Exceeded", "Application", "rate limit", "exceeded")


@dataclass
class Fault:
    """One injected misbehaviour.

    kind: "status" (answer `status`), "slow" (sleep `delay_s`, then answer normally),
    "malformed" (200 with a body that is not JSON), "truncated" (200 with the real JSON cut
    in half), "rate_limit" (429 with Strava's body and exhausted usage headers),
    "disconnect" (close the connection without answering), "response" (answer `status` with
    `body` as the raw text and exactly `headers`, e.g. a recorded Strava answer; `headers`
    None sends the stub's rate-limit headers).
    It skips the first `after` matching requests, then fires on the next `count` matching
    requests (None: until cleared), each with `probability` (seeded, deterministic).
    `path` is a regex searched in the request path (no query string); None matches every
    /api/v3 and /oauth request.
    """

    kind: str
    count: int | None = 1
    after: int = 0
    probability: float = 1.0
    path: str | None = None
    status: int = 500
    delay_s: float = 0.0
    body: str | None = None
    headers: dict[str, str] | None = None
    seed: int = 0
    fired: int = 0
    seen: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        self._rng = random.Random(self.seed)
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, path: str) -> bool:
        return self._pattern is None or self._pattern.search(path) is not None

    @property
    def spent(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def fire(self) -> bool:
        """Called for each matching request: should this one misbehave?"""
        self.seen += 1
        if self.seen <= self.after or self.spent:
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("_rng", None)
        return out


@dataclass
class _Grant:
    athlete_id: int
    expires_at: int


class StubServer:
    """Strava-compatible server for `world`; start() returns the base URL.

    Limits are the read limits (15-minute, daily); the overall limits are twice those,
    like Strava's defaults (100/1,000 read, 200/2,000 overall). `clock` returns epoch
    seconds and drives token expiry and the rate-limit windows (tests may fake it).
    """

    def __init__(
        self,
        world: World,
        *,
        client_id: int = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        host: str = "127.0.0.1",
        port: int = 0,
        short_limit: int = 100,
        daily_limit: int = 1000,
        rotate_refresh_tokens: bool = True,
        access_token_ttl_s: int = 21600,
        clock: Callable[[], float] = time.time,
        callback_timeout_s: float = 2.0,
    ) -> None:
        self.world = world
        self.client_id = int(client_id)
        self.client_secret = client_secret
        self.host = host
        self.port = port
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.access_token_ttl_s = access_token_ttl_s
        self.clock = clock
        self.callback_timeout_s = callback_timeout_s
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.short_limit, self.daily_limit = short_limit, daily_limit
        self._faults: list[Fault] = []
        self._subscriptions: dict[int, dict[str, Any]] = {}
        self._next_subscription = 1
        self.events_sent: list[dict[str, Any]] = []
        # Tracebacks of bugs in the stub itself (tests assert it stays empty); never printed.
        self.internal_errors: list[str] = []
        self._init_tokens()
        self.reset_usage()
        self.reset_stats()

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> str:
        """Serve in a daemon thread; returns the base URL, e.g. http://127.0.0.1:PORT."""
        if self._httpd is not None:
            return self.base_url
        handler = type("StubHandler", (_Handler,), {"stub": self})
        httpd = _QuietServer((self.host, self.port), handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.name = f"strava-stub-{self.port}"
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> StubServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v3"

    # --- tokens ----------------------------------------------------------------------
    def _init_tokens(self) -> None:
        with self._lock:
            self._refresh: dict[str, int] = {a.refresh_token: a.athlete_id for a in self.world.athletes.values()}
            self._codes: dict[str, int] = {a.auth_code: a.athlete_id for a in self.world.athletes.values()}
            self._access: dict[str, _Grant] = {}

    def _issue(self, athlete_id: int, old_refresh: str | None) -> dict[str, Any]:
        now = int(self.clock())
        access = secrets.token_hex(20)
        self._access[access] = _Grant(athlete_id, now + self.access_token_ttl_s)
        if old_refresh is not None and not self.rotate_refresh_tokens:
            refresh = old_refresh
        else:
            if old_refresh is not None:
                self._refresh.pop(old_refresh, None)
            refresh = secrets.token_hex(20)
            self._refresh[refresh] = athlete_id
        return {
            "token_type": "Bearer",
            "access_token": access,
            "expires_at": now + self.access_token_ttl_s,
            "expires_in": self.access_token_ttl_s,
            "refresh_token": refresh,
        }

    def issue_tokens(self, athlete_id: int) -> dict[str, Any]:
        """Tokens for an athlete without the OAuth dance (test setup)."""
        with self._lock:
            return self._issue(athlete_id, None)

    def revoke(self, token_or_athlete: str | int) -> None:
        """Simulate a revoked authorization: an athlete id revokes all of their tokens,
        a string revokes that refresh (or access) token only. A new code exchange works again."""
        with self._lock:
            if isinstance(token_or_athlete, int):
                aid = token_or_athlete
                self._refresh = {t: a for t, a in self._refresh.items() if a != aid}
                self._access = {t: g for t, g in self._access.items() if g.athlete_id != aid}
            else:
                self._refresh.pop(token_or_athlete, None)
                self._access.pop(token_or_athlete, None)

    def expire_access_tokens(self, athlete_id: int | None = None) -> None:
        """Make current access tokens expired (all, or one athlete's)."""
        with self._lock:
            now = int(self.clock())
            for grant in self._access.values():
                if athlete_id is None or grant.athlete_id == athlete_id:
                    grant.expires_at = now - 1

    def refresh_token_of(self, athlete_id: int) -> str | None:
        """The currently valid refresh token of an athlete (tests only)."""
        with self._lock:
            tokens = [t for t, a in self._refresh.items() if a == athlete_id]
            return tokens[-1] if tokens else None

    def _athlete_for_access(self, token: str) -> int | None:
        with self._lock:
            grant = self._access.get(token)
            if grant is None or grant.expires_at <= self.clock():
                return None
            return grant.athlete_id

    # --- rate limits and stats ---------------------------------------------------------
    def set_limits(self, short: int, daily: int) -> None:
        """Read limits per 15 minutes and per day (overall limits are twice these)."""
        with self._lock:
            self.short_limit, self.daily_limit = short, daily

    def reset_usage(self) -> None:
        with self._lock:
            self._windows = (None, None)
            self._usage = {"read": [0, 0], "overall": [0, 0]}

    def _roll_windows(self) -> None:
        now = self.clock()
        short_w, day_w = int(now // 900), int(now // 86400)
        old_short, old_day = self._windows
        if old_short != short_w:
            self._usage["read"][0] = self._usage["overall"][0] = 0
        if old_day != day_w:
            self._usage["read"][1] = self._usage["overall"][1] = 0
        self._windows = (short_w, day_w)

    def _count(self, method: str) -> bool:
        """Count one API request; False if it is over the limit (answer 429)."""
        with self._lock:
            self._roll_windows()
            for kind in ("overall", "read") if method == "GET" else ("overall",):
                self._usage[kind][0] += 1
                self._usage[kind][1] += 1
            read, overall = self._usage["read"], self._usage["overall"]
            if method == "GET" and (read[0] > self.short_limit or read[1] > self.daily_limit):
                return False
            return not (overall[0] > 2 * self.short_limit or overall[1] > 2 * self.daily_limit)

    def usage(self) -> dict[str, tuple[int, int]]:
        with self._lock:
            self._roll_windows()
            return {k: (v[0], v[1]) for k, v in self._usage.items()}

    def rate_headers(self, exhausted: bool = False) -> dict[str, str]:
        with self._lock:
            read, overall = list(self._usage["read"]), list(self._usage["overall"])
            if exhausted:
                read[0] = max(read[0], self.short_limit)
                overall[0] = max(overall[0], 2 * self.short_limit)
            return {
                "X-RateLimit-Limit": f"{2 * self.short_limit},{2 * self.daily_limit}",
                "X-RateLimit-Usage": f"{overall[0]},{overall[1]}",
                "X-ReadRateLimit-Limit": f"{self.short_limit},{self.daily_limit}",
                "X-ReadRateLimit-Usage": f"{read[0]},{read[1]}",
            }

    def reset_stats(self) -> None:
        with self._lock:
            self._stats: dict[str, Any] = {
                "api_requests": 0,
                "oauth_requests": 0,
                "by_endpoint": Counter(),
                "by_athlete": Counter(),
                "by_status": Counter(),
                "faults_fired": Counter(),
                "rate_limited": 0,
            }

    def stats(self) -> dict[str, Any]:
        """Request counts: total API requests, per endpoint template, per athlete, per status."""
        with self._lock:
            s = self._stats
            return {
                "api_requests": s["api_requests"],
                "oauth_requests": s["oauth_requests"],
                "by_endpoint": dict(s["by_endpoint"]),
                "by_athlete": dict(s["by_athlete"]),
                "by_status": dict(s["by_status"]),
                "faults_fired": dict(s["faults_fired"]),
                "rate_limited": s["rate_limited"],
                "internal_errors": len(self.internal_errors),
                "usage": {k: list(v) for k, v in self.usage().items()},
                "limits": {"short": self.short_limit, "daily": self.daily_limit},
            }

    def _record(self, endpoint: str, athlete_id: int | None, status: int, api: bool) -> None:
        with self._lock:
            s = self._stats
            if api:
                s["api_requests"] += 1
                if athlete_id is not None:
                    s["by_athlete"][athlete_id] += 1
            else:
                s["oauth_requests"] += 1
            s["by_endpoint"][endpoint] += 1
            s["by_status"][status] += 1
            if status == 429:
                s["rate_limited"] += 1

    # --- faults ------------------------------------------------------------------------
    def inject(self, kind: str, **options: Any) -> Fault:
        """Add a fault (see `Fault`), e.g. inject("status", status=503, count=2) or
        inject("rate_limit", after=3, count=None, path="/athlete/activities")."""
        fault = Fault(kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def _pick_fault(self, path: str) -> Fault | None:
        with self._lock:
            chosen = None
            for fault in self._faults:
                if fault.matches(path) and fault.fire() and chosen is None:
                    chosen = fault
            if chosen is not None:
                self._stats["faults_fired"][chosen.kind] += 1
            return chosen

    def reset(self) -> None:
        """Clear faults, stats, usage; tokens and the world stay."""
        self.clear_faults()
        self.reset_stats()
        self.reset_usage()

    # --- webhooks ------------------------------------------------------------------------
    def subscriptions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(s) for s in self._subscriptions.values()]

    def push_event(
        self,
        object_type: str,
        object_id: int,
        aspect_type: str,
        owner_id: int,
        updates: dict[str, Any] | None = None,
        event_time: int | None = None,
        timeout_s: float = 5.0,
    ) -> int:
        """POST a webhook event to the subscription's callback, like Strava; returns the status."""
        subs = self.subscriptions()
        if not subs:
            raise RuntimeError("no push subscription: create one first")
        event = {
            "aspect_type": aspect_type,
            "event_time": int(event_time if event_time is not None else self.clock()),
            "object_id": int(object_id),
            "object_type": object_type,
            "owner_id": int(owner_id),
            "subscription_id": subs[0]["id"],
            "updates": updates or {},
        }
        with self._lock:
            self.events_sent.append(event)
        response = requests.post(subs[0]["callback_url"], json=event, timeout=timeout_s)
        return response.status_code


class _QuietServer(ThreadingHTTPServer):
    """No tracebacks on stderr when a client hangs up (timeouts, slow-answer faults), and
    open keep-alive connections are cut on close, so a stopped server really is gone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)  # calls server_close() itself if binding fails

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def _json_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    stub: StubServer  # set on the subclass made by StubServer.start()
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls
    server_version = "StravaStub/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry query strings, which may carry secrets."""

    # --- plumbing --------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "json" in ctype:
            try:
                value = json.loads(raw)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {"_list": value}
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        payload = raw if raw is not None else (b"" if body is None else _json_body(body))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _dispatch(self, method: str) -> None:
        """Answer one request; a bug in the stub answers 500 and is kept in `internal_errors`."""
        try:
            self._answer(method)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client hung up (timeouts, slow-answer faults)
        except Exception:
            self.stub.internal_errors.append(traceback.format_exc())
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(500, {"message": "stub internal error", "errors": []})

    def _answer(self, method: str) -> None:
        stub = self.stub
        self._athlete_id: int | None = None
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = self._read_body() if method in ("POST", "PUT", "DELETE") else {}
        params = {**query, **body}
        if path.startswith("/_stub"):
            status, result = self._control(method, path, body)
            self._send(status, result)
            return
        if path == "/oauth/authorize" and method == "GET":
            self._authorize(query)
            return
        is_api = path.startswith("/api/v3")
        if not is_api and not path.startswith("/oauth"):
            self._send(404, {"message": "Record Not Found", "errors": []})
            return
        fault = stub._pick_fault(path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_s)
        headers: dict[str, str] = {}
        allowed = True
        if is_api:
            allowed = stub._count(method)
            headers = stub.rate_headers()
        endpoint = _endpoint_name(method, path)
        # Errors, 429s and drops answer before the request reaches the application: no token
        # rotates, nothing changes. Malformed and truncated bodies replace a real answer.
        if fault is not None and fault.kind in ("status", "rate_limit", "disconnect", "response"):
            athlete_id = stub._athlete_for_access(self._bearer() or "") if is_api else None
            if fault.kind == "disconnect":
                stub._record(endpoint, athlete_id, 0, is_api)
                self.close_connection = True
                return
            if fault.kind == "response":
                answer_headers = dict(fault.headers) if fault.headers is not None else headers
                stub._record(endpoint, athlete_id, fault.status, is_api)
                self._send(fault.status, None, answer_headers, raw=(fault.body or "").encode("utf-8"))
                return
            if fault.kind == "status":
                status, result = fault.status, {"message": "Internal Server Error", "errors": []}
            else:
                status, result = 429, RATE_LIMIT_BODY
                headers = stub.rate_headers(exhausted=True) if is_api else {}
            stub._record(endpoint, athlete_id, status, is_api)
            self._send(status, result, headers)
            return
        if is_api:
            status, result = self._api(method, path, params, allowed)
        else:
            status, result = self._oauth(method, path, params)
        athlete_id = self._athlete_id
        stub._record(endpoint, athlete_id, status, is_api)
        if fault is not None and fault.kind in ("malformed", "truncated") and status < 400:
            text = _json_body(result)
            if fault.kind == "malformed":
                raw = b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>"
            else:
                raw = text[: max(1, len(text) // 2)]
            self._send(status, None, headers, raw=raw)
            return
        self._send(status, None if status == 204 else result, headers)

    # --- /oauth --------------------------------------------------------------------------
    def _oauth(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
        stub = self.stub
        if path == "/oauth/token" and method == "POST":
            try:
                client_id = int(params.get("client_id") or 0)
            except (TypeError, ValueError):
                client_id = 0
            if client_id != stub.client_id:
                return 400, _error("Bad Request", "Application", "client_id", "invalid")
            if params.get("client_secret") != stub.client_secret:
                return 401, _error("Authorization Error", "Application", "client_secret", "invalid")
            grant = params.get("grant_type")
            with stub._lock:
                if grant == "refresh_token":
                    token = str(params.get("refresh_token") or "")
                    athlete_id = stub._refresh.get(token)
                    if athlete_id is None:
                        return 400, _error("Bad Request", "RefreshToken", "refresh_token", "invalid")
                    return 200, stub._issue(athlete_id, token)
                if grant == "authorization_code":
                    athlete_id = stub._codes.get(str(params.get("code") or ""))
                    if athlete_id is None:
                        return 400, _error("Bad Request", "AuthorizationCode", "code", "invalid")
                    answer = stub._issue(athlete_id, None)
                    answer["athlete"] = stub.world.athletes[athlete_id].summary
                    return 200, answer
            return 400, _error("Bad Request", "Application", "grant_type", "invalid")
        if path == "/oauth/deauthorize" and method == "POST":
            token = str(params.get("access_token") or self._bearer() or "")
            athlete_id = stub._athlete_for_access(token)
            if athlete_id is None:
                return 401, _error("Authorization Error", "Athlete", "access_token", "invalid")
            stub.revoke(athlete_id)
            return 200, {"access_token": token}
        return 404, {"message": "Record Not Found", "errors": []}

    def _authorize(self, query: dict[str, str]) -> None:
        """Strava's consent page, for a local `auth` flow: pick a demo athlete and be
        redirected to `redirect_uri` with their code, as Strava does after "Authorize"."""
        stub = self.stub
        redirect = query.get("redirect_uri") or ""
        if query.get("client_id") != str(stub.client_id) or not redirect.startswith(("http://", "https://")):
            self._send(400, _error("Bad Request", "Application", "client_id", "invalid"))
            return
        chosen = query.get("athlete")
        if chosen:
            athlete = next(
                (a for a in stub.world.athletes.values() if chosen in (a.persona, str(a.athlete_id))),
                None,
            )
            if athlete is None:
                self._send(404, _error("Record Not Found", "Athlete", "athlete", "not found"))
                return
            answer = {"state": query.get("state", ""), "code": athlete.auth_code, "scope": query.get("scope", "read")}
            location = f"{redirect}{'&' if '?' in redirect else '?'}{urlencode(answer)}"
            self._send(302, None, {"Location": location})
            return
        links = "".join(
            f'<li><a href="/oauth/authorize?{html.escape(urlencode({**query, "athlete": a.persona}))}">'
            f"{html.escape(a.profile['firstname'])} {html.escape(a.profile['lastname'])} ({a.persona})</a></li>"
            for a in stub.world.athletes.values()
        )
        page = f"<!doctype html><title>Authorize</title><h1>Authorize this application</h1><ul>{links}</ul>"
        self._send(200, None, raw=page.encode("utf-8"), content_type="text/html; charset=utf-8")

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        return value[7:].strip() if value.lower().startswith("bearer ") else None

    # --- /api/v3 -------------------------------------------------------------------------
    def _api(self, method: str, path: str, params: dict[str, Any], allowed: bool) -> tuple[int, Any]:
        stub = self.stub
        sub = path[len("/api/v3") :] or "/"
        if sub.startswith("/push_subscriptions"):
            if not allowed:
                return 429, RATE_LIMIT_BODY
            return self._subscriptions(method, sub, params)
        token = self._bearer()
        athlete_id = stub._athlete_for_access(token) if token else None
        self._athlete_id = athlete_id
        if not allowed:
            return 429, RATE_LIMIT_BODY
        if athlete_id is None:
            return 401, _error("Authorization Error", "Athlete", "access_token", "invalid")
        world = stub.world
        if method != "GET":
            return 405, {"message": "Method Not Allowed", "errors": []}
        with world.lock:
            athlete = world.athletes.get(athlete_id)
            if athlete is None:
                return 401, _error("Authorization Error", "Athlete", "access_token", "invalid")
            # A world may answer in its own shapes (pipeline.strava_stub.recorded serves
            # recorded bodies): athlete_json, summary_json, streams_json, not_found_body.
            if sub == "/athlete":
                render = getattr(world, "athlete_json", None)
                return 200, render(athlete) if render is not None else _athlete_json(athlete)
            if sub == "/athlete/activities":
                return self._list(athlete.activities, params, getattr(world, "summary_json", summary_of))
            m = re.fullmatch(r"/activities/(\d+)(/streams)?", sub)
            if m:
                activity = next((a for a in athlete.activities if a["id"] == int(m.group(1))), None)
                if activity is None:
                    return 404, _not_found(world, "Activity")
                if m.group(2) is None:
                    return 200, activity
                keys = [k for k in str(params.get("keys") or "").split(",") if k] or None
                key_by_type = str(params.get("key_by_type", "")).lower() in ("true", "1")
                render = getattr(world, "streams_json", None)
                if render is not None:
                    return 200, render(activity, keys, key_by_type)
                streams = world.streams_of(activity, keys)
                if key_by_type:
                    return 200, streams
                return 200, [{"type": k, **v} for k, v in streams.items()]
            m = re.fullmatch(r"/gear/([A-Za-z0-9]+)", sub)
            if m:
                gear = athlete.gear.get(m.group(1))
                if gear is None:
                    return 404, _not_found(world, "Gear")
                return 200, gear
        return 404, {"message": "Record Not Found", "errors": []}

    def _list(
        self,
        activities: list[dict[str, Any]],
        params: dict[str, Any],
        summary: Callable[[dict[str, Any]], dict[str, Any]] = summary_of,
    ) -> tuple[int, Any]:
        """SummaryActivity pages; newest first, except oldest first when only `after` is given."""
        try:
            page = int(params.get("page") or 1)
            per_page = int(params.get("per_page") or 30)
            after = int(float(params["after"])) if params.get("after") not in (None, "") else None
            before = int(float(params["before"])) if params.get("before") not in (None, "") else None
        except ValueError:
            return 400, _error("Bad Request", "Activity", "page", "invalid")
        if page < 1 or per_page < 1:
            return 400, _error("Bad Request", "Activity", "per_page", "invalid")
        return 200, [summary(a) for a in list_page(activities, page, per_page, after, before)]

    def _subscriptions(self, method: str, sub: str, params: dict[str, Any]) -> tuple[int, Any]:
        stub = self.stub
        try:
            client_id = int(params.get("client_id") or 0)
        except (TypeError, ValueError):
            client_id = 0
        if client_id != stub.client_id or params.get("client_secret") != stub.client_secret:
            return 401, _error("Authorization Error", "Application", "client_id", "invalid")
        m = re.fullmatch(r"/push_subscriptions/(\d+)", sub)
        if method == "GET" and sub == "/push_subscriptions":
            return 200, stub.subscriptions()
        if method == "DELETE" and m:
            with stub._lock:
                if stub._subscriptions.pop(int(m.group(1)), None) is None:
                    return 404, _error("Record Not Found", "PushSubscription", "id", "not found")
            return 204, None
        if method == "POST" and sub == "/push_subscriptions":
            callback = str(params.get("callback_url") or "")
            verify = str(params.get("verify_token") or "")
            if stub.subscriptions():
                return 400, _error("Bad Request", "PushSubscription", "", "already exists")
            if not callback.startswith(("http://", "https://")):
                return 400, _error("Bad Request", "PushSubscription", "callback url", "invalid")
            challenge = secrets.token_urlsafe(12)
            query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify})
            try:
                answer = requests.get(
                    f"{callback}{'&' if '?' in callback else '?'}{query}", timeout=stub.callback_timeout_s
                )
                echoed = answer.status_code == 200 and answer.json().get("hub.challenge") == challenge
            except (requests.RequestException, ValueError, AttributeError):
                echoed = False
            if not echoed:
                return 400, _error("Bad Request", "PushSubscription", "callback url", "not verifiable")
            now = datetime.fromtimestamp(stub.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            with stub._lock:
                sub_id = stub._next_subscription
                stub._next_subscription += 1
                stub._subscriptions[sub_id] = {
                    "id": sub_id,
                    "resource_state": 2,
                    "application_id": stub.client_id,
                    "callback_url": callback,
                    "created_at": now,
                    "updated_at": now,
                }
            return 201, {"id": sub_id}
        return 405, {"message": "Method Not Allowed", "errors": []}

    # --- /_stub control ------------------------------------------------------------------
    def _control(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        stub = self.stub
        try:
            if path == "/_stub/stats" and method == "GET":
                return 200, stub.stats()
            if path == "/_stub/reset" and method == "POST":
                stub.reset()
                return 200, {"ok": True}
            if path == "/_stub/faults":
                if method == "GET":
                    return 200, stub.faults()
                if method == "DELETE":
                    stub.clear_faults()
                    return 200, {"ok": True}
                if method == "POST":
                    specs = body.get("_list") or body.get("faults") or [body]
                    added = [stub.inject(**spec).describe() for spec in specs]
                    return 200, added
            if path == "/_stub/limits" and method == "POST":
                stub.set_limits(int(body["short"]), int(body["daily"]))
                if body.get("reset_usage"):
                    stub.reset_usage()
                return 200, {"short": stub.short_limit, "daily": stub.daily_limit}
            if path == "/_stub/revoke" and method == "POST":
                target = body.get("athlete_id", body.get("token"))
                stub.revoke(int(target) if isinstance(target, int) or str(target).isdigit() else str(target))
                return 200, {"ok": True}
            if path == "/_stub/expire" and method == "POST":
                stub.expire_access_tokens(body.get("athlete_id"))
                return 200, {"ok": True}
            if path == "/_stub/activities" and method == "POST":
                athlete_id = int(body["athlete_id"])
                if "run" in body:
                    spec = dict(body["run"])
                    start = datetime.fromisoformat(spec.pop("start_local"))
                    activity = stub.world.new_run(
                        athlete_id, start, float(spec.pop("distance_km")), float(spec.pop("pace_s_per_km", 330)), **spec
                    )
                else:
                    activity = body["activity"]
                stored = stub.world.add_activity(athlete_id, activity)
                return 201, {"id": stored["id"], "athlete_id": athlete_id}
            m = re.fullmatch(r"/_stub/activities/(\d+)", path)
            if m and method in ("PUT", "DELETE"):
                found = stub.world.find(int(m.group(1)))
                if found is None:
                    return 404, {"message": "no such activity"}
                owner, activity = found
                if method == "DELETE":
                    stub.world.delete_activity(owner.athlete_id, activity["id"])
                    return 200, {"deleted": activity["id"]}
                changes = body.get("changes", body)
                stub.world.update_activity(owner.athlete_id, activity["id"], changes)
                return 200, {"updated": activity["id"]}
            if path == "/_stub/events" and method == "POST":
                status = stub.push_event(
                    body["object_type"], body["object_id"], body["aspect_type"], body["owner_id"], body.get("updates")
                )
                return 200, {"callback_status": status}
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            return 400, {"message": f"bad control request: {type(err).__name__}: {err}"}
        return 404, {"message": "unknown control endpoint"}


def list_page(
    activities: list[dict[str, Any]], page: int, per_page: int, after: int | None, before: int | None
) -> list[dict[str, Any]]:
    """One page of /athlete/activities, as Strava pages it.

    Strictly after `after` and strictly before `before` (epoch seconds of start_date);
    newest first, except oldest first when `after` is given without `before`; at most 200
    a page. Equal start times keep their order in `activities`.
    """
    per_page = min(per_page, 200)
    chosen = []
    for activity in activities:
        start = _epoch(activity["start_date"])
        if after is not None and start <= after:
            continue
        if before is not None and start >= before:
            continue
        chosen.append((start, activity))
    oldest_first = after is not None and before is None
    chosen.sort(key=lambda item: item[0], reverse=not oldest_first)
    return [a for _, a in chosen[(page - 1) * per_page : page * per_page]]


def _not_found(world: Any, resource: str) -> Any:
    """Strava's 404 body for a missing activity or gear (a world may supply its own; None: empty)."""
    body = getattr(world, "not_found_body", None)
    return body(resource) if body is not None else _error("Record Not Found", resource, "id", "not found")


def _endpoint_name(method: str, path: str) -> str:
    """The request as a template for stats, e.g. "GET /api/v3/activities/{id}/streams"."""
    return f"{method} " + re.sub(r"/gear/[^/]+", "/gear/{id}", re.sub(r"/\d+(?=/|$)", "/{id}", path))


def _athlete_json(athlete: Any) -> dict[str, Any]:
    profile = dict(athlete.profile)
    profile["shoes"] = [
        {k: g[k] for k in ("id", "primary", "name", "nickname", "retired", "distance", "converted_distance")}
        | {"resource_state": 2}
        for g in athlete.gear.values()
    ]
    return profile


@functools.lru_cache(maxsize=200_000)
def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
