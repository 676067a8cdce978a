"""Settings from the environment, with working local defaults.

Only this module reads environment variables; everything else takes a `Settings`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

STRAVA_DEFAULT_BASE_URL = "https://www.strava.com"
AUTH_SCOPES = "read,activity:read_all,profile:read_all"
# The project's SQL (models, seeds): part of the source tree, not of the settings.
SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


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
    # The DuckLake: its catalog database and the folder of its Parquet data files
    # (BACKSTRIDE_CATALOG, BACKSTRIDE_DATA_PATH; default inside `home`).
    catalog: Path | None = None
    data: Path | None = None

    @property
    def catalog_path(self) -> Path:
        return self.catalog or self.home / "catalog.sqlite"

    @property
    def data_path(self) -> Path:
        return self.data or self.home / "lake"

    @property
    def warehouse_path(self) -> Path:
        """The single-file DuckDB warehouse of releases before the lake (moved in on first open)."""
        return self.home / "warehouse.duckdb"

    @property
    def replica_path(self) -> Path:
        """The read replica those releases published; removed once the warehouse is in the lake."""
        return self.home / "warehouse.read.duckdb"

    def warehouse_exists(self) -> bool:
        """A warehouse is there: the lake's catalog, or a single-file warehouse that will move in."""
        return self.catalog_path.exists() or self.warehouse_path.exists()

    @property
    def locks_dir(self) -> Path:
        """Locks for the few steps two runs of which must not interleave (see pipeline.step_lock)."""
        return self.home / "locks"

    @property
    def lock_path(self) -> Path:
        """The write lock: one write transaction at a time on the embedded catalog (`pipeline.warehouse`)."""
        return self.locks_dir / "write.lock"

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


class ConfigError(ValueError):
    """An environment variable holds a value backstride cannot use; the message names it."""


def _shown(value: str, limit: int = 80) -> str:
    """A value for an error message: quoted, control characters escaped, cut to `limit`."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def _int_or_none(value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(
            f"STRAVA_CLIENT_ID must be a whole number (your Strava application's id), not {_shown(value)}"
        ) from None
    if not 0 < number < 2**63:
        raise ConfigError(f"STRAVA_CLIENT_ID must be a positive whole number, not {_shown(value)}")
    return number


def check_base_url(value: str) -> str:
    """`STRAVA_BASE_URL` without its trailing slash, or ConfigError saying what is wrong with it.

    An http(s) origin with a host, optionally a port and a path prefix; no spaces, query,
    fragment or credentials. Checked once here so that every command reaching Strava fails
    with the same line instead of a traceback from deep inside requests.
    """
    example = f"an http:// or https:// address such as {STRAVA_DEFAULT_BASE_URL} or http://127.0.0.1:8710"
    if value != value.strip() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigError(f"STRAVA_BASE_URL must be {example} (no spaces), not {_shown(value)}")
    try:
        parts = urlsplit(value)
        port = parts.port  # ValueError for a port that is not a number or out of range
    except ValueError:
        raise ConfigError(f"STRAVA_BASE_URL must be {example}, not {_shown(value)}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"STRAVA_BASE_URL must be {example}, not {_shown(value)} (scheme must be http or https)")
    if not parts.hostname:
        raise ConfigError(f"STRAVA_BASE_URL must be {example}, not {_shown(value)} (no host)")
    if parts.username is not None or parts.password is not None:
        raise ConfigError("STRAVA_BASE_URL must not contain a user name or password")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ConfigError(f"STRAVA_BASE_URL must be {example}, not {_shown(value)} (no query or fragment)")
    if port == 0:
        raise ConfigError(f"STRAVA_BASE_URL must be {example}, not {_shown(value)} (port 0)")
    return value.rstrip("/")


def check_home(home: Path) -> Path:
    """`BACKSTRIDE_HOME` if backstride can use it (it is created on the first write), else ConfigError."""
    if str(home).strip() == "":
        raise ConfigError("BACKSTRIDE_HOME must be a directory path, not an empty string")
    existing = home
    while not existing.exists() and existing != existing.parent:  # the nearest part that exists
        if existing.is_symlink():
            raise ConfigError(f"BACKSTRIDE_HOME {str(home)!r}: {str(existing)!r} is a broken symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        what = "is a file, not a directory" if existing == home else f"is inside {str(existing)!r}, which is a file"
        raise ConfigError(f"BACKSTRIDE_HOME {str(home)!r} {what}")
    if existing == home and not os.access(home, os.R_OK | os.X_OK):  # writers also need W: checked on write
        raise ConfigError(f"BACKSTRIDE_HOME {str(home)!r} is not readable by this user")
    if existing != home and not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"BACKSTRIDE_HOME {str(home)!r} does not exist and cannot be created in {str(existing)!r}")
    return home


def _lookback_weeks(value: str | None) -> int:
    if value is None or value.strip() == "":
        return 12
    try:
        weeks = int(value)
    except ValueError:
        raise ConfigError(f"BACKSTRIDE_LOOKBACK_WEEKS must be a whole number of weeks, not {_shown(value)}") from None
    if not 1 <= weeks <= 520:
        raise ConfigError(f"BACKSTRIDE_LOOKBACK_WEEKS must be between 1 and 520 weeks, not {weeks}")
    return weeks


def _catalog(value: str | None) -> Path | None:
    """BACKSTRIDE_CATALOG: a SQLite file path (`sqlite:` prefix optional)."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if text.startswith("postgres:"):
        raise ConfigError(
            "BACKSTRIDE_CATALOG=postgres:... is not supported by this release yet; use a SQLite catalog file path"
        )
    text = text.removeprefix("sqlite:")
    if "'" in text or "\x00" in text:
        raise ConfigError(f"BACKSTRIDE_CATALOG must be a file path without quotes, not {_shown(value)}")
    return Path(text)


def _data_path(value: str | None) -> Path | None:
    if value is None or value.strip() == "":
        return None
    if "'" in value or "\x00" in value:
        raise ConfigError(f"BACKSTRIDE_DATA_PATH must be a folder path without quotes, not {_shown(value)}")
    return Path(value.strip()).resolve()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read settings from `env` (default: the process environment); ConfigError names a bad variable."""
    env = dict(os.environ if env is None else env)
    return Settings(
        home=check_home(Path(env.get("BACKSTRIDE_HOME") or "var")),
        strava_base_url=check_base_url(env.get("STRAVA_BASE_URL") or STRAVA_DEFAULT_BASE_URL),
        client_id=_int_or_none(env.get("STRAVA_CLIENT_ID")),
        client_secret=env.get("STRAVA_CLIENT_SECRET") or None,
        smtp_url=env.get("BACKSTRIDE_SMTP_URL") or None,
        verify_token=env.get("STRAVA_VERIFY_TOKEN") or None,
        mail_from=env.get("BACKSTRIDE_MAIL_FROM") or Settings.mail_from,
        lookback_weeks=_lookback_weeks(env.get("BACKSTRIDE_LOOKBACK_WEEKS")),
        catalog=_catalog(env.get("BACKSTRIDE_CATALOG")),
        data=_data_path(env.get("BACKSTRIDE_DATA_PATH")),
    )
