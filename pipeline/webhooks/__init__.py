"""Strava webhook events: the receiver, its durable inbox, event processing, subscriptions.

One module per job:

- `events`: the `WebhookEvent` model (pydantic) and the checks a POST body passes;
- `inbox`: the fsync'd JSONL inbox the receiver appends to;
- `receiver`: the ASGI app (FastAPI) that answers Strava;
- `airflow`: tells Airflow, over its REST API, that events are waiting;
- `process`: turns the inbox into fetches, deletions and athlete removals, once;
- `ledger`: the warehouse's record of processed events, and who still needs a sync;
- `subscriptions`: Strava's push subscription and the ids the receiver accepts;
- `assets`: the Airflow asset names (imported by the DAG files at parse time).

The DAG files import this package at parse time, so importing it loads only `assets`; every
other name is loaded from its module on first use (module `__getattr__`). Import from the
precise module in new code.
"""

from __future__ import annotations

import importlib
from typing import Any

from pipeline.webhooks.assets import WEBHOOK_ASSET_NAME, WEBHOOK_ASSET_URI

# name -> module under pipeline.webhooks, for the names the old single module offered
_LAZY = {
    "airflow": ("AirflowApi", "AirflowNotifier", "NotifierStopped"),
    "events": (
        "ASPECT_TYPES",
        "MAX_BODY_BYTES",
        "MAX_DEPTH",
        "OBJECT_TYPES",
        "EventError",
        "WebhookEvent",
        "parse_body",
        "parse_event",
        "unsupported_content_type",
    ),
    "inbox": ("Inbox", "read_inbox_files"),
    "ledger": ("athletes_needing_sync", "purge_deleted_rows"),
    "process": ("MAX_ATTEMPTS", "ProcessReport", "SyncActions", "process_inbox"),
    "receiver": ("WEBHOOK_PATH", "GroupCommit", "create_app", "serve"),
    "subscriptions": (
        "SUBSCRIPTION_FILE",
        "SubscriptionInfo",
        "forget_subscription_id",
        "list_subscriptions",
        "read_subscription_ids",
        "save_subscription_id",
        "subscribe",
        "subscription_file",
        "unsubscribe",
    ),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}

__all__ = [
    "ASPECT_TYPES",
    "MAX_ATTEMPTS",
    "MAX_BODY_BYTES",
    "MAX_DEPTH",
    "OBJECT_TYPES",
    "SUBSCRIPTION_FILE",
    "WEBHOOK_ASSET_NAME",
    "WEBHOOK_ASSET_URI",
    "WEBHOOK_PATH",
    "AirflowApi",
    "AirflowNotifier",
    "EventError",
    "GroupCommit",
    "Inbox",
    "NotifierStopped",
    "ProcessReport",
    "SubscriptionInfo",
    "SyncActions",
    "WebhookEvent",
    "athletes_needing_sync",
    "create_app",
    "forget_subscription_id",
    "list_subscriptions",
    "parse_body",
    "parse_event",
    "process_inbox",
    "purge_deleted_rows",
    "read_inbox_files",
    "read_subscription_ids",
    "save_subscription_id",
    "serve",
    "subscribe",
    "subscription_file",
    "unsubscribe",
    "unsupported_content_type",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain global
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
