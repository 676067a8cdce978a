"""Strava's push subscription: creating, listing and deleting it (stravalib), and the ids we accept.

The receiver accepts an event only when its `subscription_id` is one we know: from the
subscription file `webhook subscribe` writes, or from `STRAVA_SUBSCRIPTION_ID`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.files import atomic_write

SUBSCRIPTION_FILE = "webhook_subscription.json"


def subscription_file(settings: Settings) -> Path:
    return settings.home / SUBSCRIPTION_FILE


def save_subscription_id(settings: Settings, subscription_id: int) -> None:
    """Remember the subscription `webhook subscribe` created, so the receiver accepts its events."""
    ids = sorted(set(read_subscription_ids(settings)) | {subscription_id})
    atomic_write(subscription_file(settings), json.dumps({"subscription_ids": ids}))


def forget_subscription_id(settings: Settings, subscription_id: int) -> None:
    ids = sorted(set(read_subscription_ids(settings)) - {subscription_id})
    atomic_write(subscription_file(settings), json.dumps({"subscription_ids": ids}))


def read_subscription_ids(settings: Settings, env: Mapping[str, str] | None = None) -> set[int]:
    """Known ids: the subscription file plus `STRAVA_SUBSCRIPTION_ID` (comma-separated) in `env`."""
    ids: set[int] = set()
    path = subscription_file(settings)
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            ids.update(int(i) for i in json.loads(path.read_text()).get("subscription_ids", []))
    for part in ((env or {}).get("STRAVA_SUBSCRIPTION_ID") or "").split(","):
        if part.strip():
            try:
                ids.add(int(part))
            except ValueError:
                raise ValueError(f"STRAVA_SUBSCRIPTION_ID must be comma-separated integers, not {part!r}") from None
    return ids


@dataclass(frozen=True)
class SubscriptionInfo:
    id: int | None
    callback_url: str | None
    created_at: str | None


def _strava_client(settings: Settings) -> Any:
    """A stravalib client pointed at `settings.strava_base_url` (no athlete token needed)."""
    from pipeline.strava_client import make_client

    return make_client(settings)


def _require_app_credentials(settings: Settings) -> tuple[int, str]:
    if settings.client_id is None or not settings.client_secret:
        raise ValueError("STRAVA_CLIENT_ID and STRAVA_CLIENT_SECRET must be set to manage the webhook subscription")
    return settings.client_id, settings.client_secret


def subscribe(settings: Settings, callback_url: str, client: Any = None) -> SubscriptionInfo:
    """`POST /push_subscriptions`: Strava checks the callback (GET handshake) before answering.

    The receiver must already be serving at `callback_url` with the same verify token.
    """
    client_id, secret = _require_app_credentials(settings)
    if not settings.verify_token:
        raise ValueError("STRAVA_VERIFY_TOKEN must be set: the receiver checks Strava's handshake against it")
    client = client or _strava_client(settings)
    sub = client.create_subscription(client_id, secret, callback_url, verify_token=settings.verify_token)
    if sub.id is not None:
        save_subscription_id(settings, int(sub.id))
    return _info(sub)


def list_subscriptions(settings: Settings, client: Any = None) -> list[SubscriptionInfo]:
    """`GET /push_subscriptions` (stravalib sends the secret in the query string, as Strava documents)."""
    client_id, secret = _require_app_credentials(settings)
    client = client or _strava_client(settings)
    return [_info(s) for s in client.list_subscriptions(client_id, secret)]


def unsubscribe(settings: Settings, subscription_id: int, client: Any = None) -> None:
    """`DELETE /push_subscriptions/{id}`, then stop accepting that id."""
    client_id, secret = _require_app_credentials(settings)
    client = client or _strava_client(settings)
    client.delete_subscription(subscription_id, client_id, secret)
    forget_subscription_id(settings, subscription_id)


def _info(sub: Any) -> SubscriptionInfo:
    created = getattr(sub, "created_at", None)
    return SubscriptionInfo(
        id=getattr(sub, "id", None),
        callback_url=getattr(sub, "callback_url", None),
        created_at=created.isoformat() if created is not None else None,
    )
