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

Modules, one job each: `handler` (HTTP plumbing, routing, faults applied), `api`, `oauth`,
`push` (webhook subscriptions and events), `control` (/_stub), `paging`, `tokens`, `rate_limits`
(and stats), `faults`, `answers` (shared bodies). This one holds the server's state and lifecycle.

It never logs request bodies, query strings or headers: they carry secrets and tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, World
from pipeline.strava_stub.faults import Fault, FaultsMixin
from pipeline.strava_stub.handler import Handler, QuietServer
from pipeline.strava_stub.push import PushMixin
from pipeline.strava_stub.rate_limits import RateLimitsMixin, StatsMixin
from pipeline.strava_stub.tokens import TokensMixin


class StubServer(TokensMixin, RateLimitsMixin, StatsMixin, FaultsMixin, PushMixin):
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
        self._httpd: QuietServer | None = None
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
        handler = type("StubHandler", (Handler,), {"stub": self})
        httpd = QuietServer((self.host, self.port), handler)
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

    def reset(self) -> None:
        """Clear faults, stats, usage; tokens and the world stay."""
        self.clear_faults()
        self.reset_stats()
        self.reset_usage()
