"""Webhook push subscriptions: Strava's /push_subscriptions API and the events the stub sends."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests

from pipeline.strava_stub.answers import NOT_ALLOWED_BODY, Answer, client_id_of, error, with_query


class PushMixin:
    """The subscription (Strava allows one per application) and events POSTed to its callback."""

    client_id: int
    client_secret: str
    clock: Callable[[], float]
    callback_timeout_s: float
    events_sent: list[dict[str, Any]]
    _lock: threading.RLock
    _subscriptions: dict[int, dict[str, Any]]
    _next_subscription: int

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

    def _subscribe(self, callback: str, verify: str) -> Answer:
        """POST /push_subscriptions: verify the callback echoes a challenge, then create it."""
        if self.subscriptions():
            return 400, error("Bad Request", "PushSubscription", "", "already exists")
        if not callback.startswith(("http://", "https://")):
            return 400, error("Bad Request", "PushSubscription", "callback url", "invalid")
        if not self._callback_echoes(callback, verify):
            return 400, error("Bad Request", "PushSubscription", "callback url", "not verifiable")
        now = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._lock:
            sub_id = self._next_subscription
            self._next_subscription += 1
            self._subscriptions[sub_id] = {
                "id": sub_id,
                "resource_state": 2,
                "application_id": self.client_id,
                "callback_url": callback,
                "created_at": now,
                "updated_at": now,
            }
        return 201, {"id": sub_id}

    def _callback_echoes(self, callback: str, verify: str) -> bool:
        """Strava's validation GET: the callback must answer 200 echoing `hub.challenge`."""
        challenge = secrets.token_urlsafe(12)
        query = urlencode({"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify})
        try:
            answer = requests.get(with_query(callback, query), timeout=self.callback_timeout_s)
            return answer.status_code == 200 and answer.json().get("hub.challenge") == challenge
        except (requests.RequestException, ValueError, AttributeError):
            return False


def subscriptions_route(stub: Any, method: str, sub: str, params: dict[str, Any]) -> Answer:
    """/api/v3/push_subscriptions[/{id}]: list, create, delete (application credentials, no token)."""
    if client_id_of(params) != stub.client_id or params.get("client_secret") != stub.client_secret:
        return 401, error("Authorization Error", "Application", "client_id", "invalid")
    m = re.fullmatch(r"/push_subscriptions/(\d+)", sub)
    if method == "GET" and sub == "/push_subscriptions":
        return 200, stub.subscriptions()
    if method == "DELETE" and m:
        with stub._lock:
            if stub._subscriptions.pop(int(m.group(1)), None) is None:
                return 404, error("Record Not Found", "PushSubscription", "id", "not found")
        return 204, None
    if method == "POST" and sub == "/push_subscriptions":
        return stub._subscribe(str(params.get("callback_url") or ""), str(params.get("verify_token") or ""))
    return 405, NOT_ALLOWED_BODY
