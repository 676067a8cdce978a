"""Settings from the environment, with working local defaults.

Only this module reads environment variables; everything else takes a `Settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

STRAVA_DEFAULT_BASE_URL = "https://www.strava.com"
AUTH_SCOPES = "read,activity:read_all,profile:read_all"


@dataclass(frozen=True)
class Settings:
    """Where backstride keeps its files and how it reaches Strava and SMTP."""

    home: Path = field(default_factory=lambda: Path("var"))
    strava_base_url: str = STRAVA_DEFAULT_BASE_URL
    client_id: int | None = None
    client_secret: str | None = field(default=None, repr=False)
    smtp_url: str | None = field(default=None, repr=False)
    verify_token: str | None = field(default=None, repr=False)
    mail_from: str = "backstride <digest@backstride.local>"
    lookback_weeks: int = 12
    # Requests kept in reserve of each Strava read window (15 min, daily).
    reserve_short: int = 5
    reserve_daily: int = 50
    http_timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.5

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def replica_path(self) -> Path:
        """A read-only copy published after each write, for readers while a writer holds the lock."""
        return self.home / "warehouse.read.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.home / "warehouse.lock"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def inbox_dir(self) -> Path:
        """Durable inbox of webhook events (does not need the warehouse lock)."""
        return self.home / "inbox"

    @property
    def api_url(self) -> str:
        return self.strava_base_url.rstrip("/") + "/api/v3"


def _int_or_none(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError as err:
        raise ValueError("STRAVA_CLIENT_ID must be an integer") from err


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    return Settings(
        home=Path(env.get("BACKSTRIDE_HOME") or "var"),
        strava_base_url=(env.get("STRAVA_BASE_URL") or STRAVA_DEFAULT_BASE_URL).rstrip("/"),
        client_id=_int_or_none(env.get("STRAVA_CLIENT_ID")),
        client_secret=env.get("STRAVA_CLIENT_SECRET") or None,
        smtp_url=env.get("BACKSTRIDE_SMTP_URL") or None,
        verify_token=env.get("STRAVA_VERIFY_TOKEN") or None,
        mail_from=env.get("BACKSTRIDE_MAIL_FROM") or Settings.mail_from,
        lookback_weeks=int(env.get("BACKSTRIDE_LOOKBACK_WEEKS") or 12),
    )
