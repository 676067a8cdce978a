"""Telling Airflow that events are waiting: one asset event per burst, over Airflow's REST API.

The receiver pokes `AirflowNotifier` after each queued event; on a background thread the
notifier coalesces a burst into one `POST /api/v2/assets/events` on the webhook asset, which
schedules the `strava_events` DAG. Failures are logged and dropped: the events wait in the
inbox and the next run (scheduled or triggered) takes them. `requests` is imported on first use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tenacity import RetryCallState, Retrying, stop_after_attempt, stop_when_event_set, wait_exponential

from pipeline.webhooks.assets import WEBHOOK_ASSET_NAME
from pipeline.webhooks.events import WebhookEvent

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 3  # per burst; then the burst is dropped (its events are safe in the inbox)


@dataclass(frozen=True)
class AirflowApi:
    """Where the receiver records asset events (Airflow's REST API, simple auth manager)."""

    url: str
    user: str
    password: str = field(repr=False)
    timeout_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AirflowApi | None:
        """`BACKSTRIDE_AIRFLOW_URL`, `_USER`, `_PASSWORD`; None when any is missing."""
        url, user, password = (env.get(f"BACKSTRIDE_AIRFLOW_{k}") for k in ("URL", "USER", "PASSWORD"))
        if not (url and user and password):
            return None
        return cls(url.rstrip("/"), user, password)


class NotifierStopped(Exception):
    """`stop()` was called during a backoff: give the burst up instead of trying again."""


class AirflowNotifier:
    """Records one asset event per burst of received events, on a background thread.

    `poke` never blocks the receiver; a burst of events within `debounce_s` becomes a
    single asset event (one DAG run, not a thousand). A failed send is retried by tenacity
    with exponential backoff (`retry_base_s`, then twice that), cut short by `stop()`.
    """

    def __init__(self, api: AirflowApi, debounce_s: float = 0.5, retry_base_s: float = 0.5) -> None:
        self.api = api
        self.debounce_s = debounce_s
        self.retry_base_s = retry_base_s
        self._owners: set[int] = set()
        self._count = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._token: str | None = None
        self._asset_id: int | None = None
        self._thread = threading.Thread(target=self._run, name="airflow-notifier", daemon=True)
        self.sent = 0
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=self.api.timeout_s * 2)

    def poke(self, event: WebhookEvent) -> None:
        with self._lock:
            self._owners.add(event.owner_id)
            self._count += 1
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                break
            time.sleep(self.debounce_s)
            self._wake.clear()
            with self._lock:
                owners, count = sorted(self._owners), self._count
                self._owners, self._count = set(), 0
            if count:
                self._send({"events": count, "owner_ids": owners})

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(SEND_ATTEMPTS) | stop_when_event_set(self._stop),
            wait=wait_exponential(multiplier=self.retry_base_s),
            sleep=self._backoff,
            after=self._after_failure,
            reraise=True,
        )

    def _backoff(self, seconds: float) -> None:
        if self._stop.wait(seconds):
            raise NotifierStopped

    def _after_failure(self, state: RetryCallState) -> None:
        self._token = None  # it may have expired: log in again on the next attempt
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "could not record the Airflow asset event (attempt %d): %s",
            state.attempt_number,
            type(error).__name__,
        )

    def _send(self, extra: dict[str, Any]) -> None:
        import requests

        def post() -> None:
            with requests.Session() as http:
                self._post_event(http, extra)

        try:
            self._retrying()(post)
        except Exception:  # already logged per attempt; the events wait in the inbox
            self.failures += 1
        else:
            self.sent += 1

    def _post_event(self, http: Any, extra: dict[str, Any]) -> None:
        if self._token is None:
            r = http.post(
                f"{self.api.url}/auth/token",
                json={"username": self.api.user, "password": self.api.password},
                timeout=self.api.timeout_s,
            )
            r.raise_for_status()
            self._token = r.json()["access_token"]
        headers = {"Authorization": f"Bearer {self._token}"}
        if self._asset_id is None:
            self._asset_id = self._find_asset(http, headers)
        r = http.post(
            f"{self.api.url}/api/v2/assets/events",
            json={"asset_id": self._asset_id, "extra": extra},
            headers=headers,
            timeout=self.api.timeout_s,
        )
        r.raise_for_status()

    def _find_asset(self, http: Any, headers: dict[str, str]) -> int:
        r = http.get(
            f"{self.api.url}/api/v2/assets",
            params={"name_pattern": WEBHOOK_ASSET_NAME},
            headers=headers,
            timeout=self.api.timeout_s,
        )
        r.raise_for_status()
        matches = [a["id"] for a in r.json().get("assets", []) if a.get("name") == WEBHOOK_ASSET_NAME]
        if not matches:
            raise LookupError(f"Airflow has no asset {WEBHOOK_ASSET_NAME!r} yet (is the strava_events DAG parsed?)")
        return int(matches[0])
