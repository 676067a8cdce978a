"""Fixtures for the webhook receiver: settings under tmp, a known subscription id."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from webhook_support import SUBSCRIPTION_ID, VERIFY_TOKEN

from pipeline.config import Settings, load_settings
from pipeline.webhooks.subscriptions import save_subscription_id

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = load_settings({"BACKSTRIDE_HOME": str(tmp_path / "home"), "STRAVA_VERIFY_TOKEN": VERIFY_TOKEN})
    save_subscription_id(s, SUBSCRIPTION_ID)
    return s
