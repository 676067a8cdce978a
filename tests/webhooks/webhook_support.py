"""Shared constants and event builder for the webhook tests."""

from __future__ import annotations

SUBSCRIPTION_ID = 4242
VERIFY_TOKEN = "verify-me-please"


def event(**overrides: object) -> dict[str, object]:
    """A Strava activity-create event; override any field."""
    base: dict[str, object] = {
        "aspect_type": "create",
        "event_time": 1_700_000_000,
        "object_id": 1001,
        "object_type": "activity",
        "owner_id": 7,
        "subscription_id": SUBSCRIPTION_ID,
        "updates": {},
    }
    base.update(overrides)
    return base
