"""Checks of command-line values (ids, emails, time zones, URLs, weeks) that refuse bad input in one line."""

from __future__ import annotations

import datetime
from typing import Any, Optional

import typer

from pipeline.cli.app import fail

# Ids are Strava's: positive and within DuckDB's BIGINT (a larger number can name nothing).
MAX_ID = 2**63 - 1


def athlete_id_argument(help: str = "Strava athlete id.") -> Any:
    return typer.Argument(help=help, min=1, max=MAX_ID)


def athlete_id_option(help: str) -> Any:
    return typer.Option(help=help, min=1, max=MAX_ID)


def shown(value: str, limit: int = 60) -> str:
    """User text for a message: quoted, control characters escaped, cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def check_text(option: str, value: str) -> str:
    """A value that must be non-empty and free of spaces and control characters (tokens, codes)."""
    if value.strip() == "":
        fail(f"{option} must not be empty", 2)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        fail(f"{option} must not contain spaces or control characters", 2)
    return value


def check_email(value: str) -> str:
    """One plain address (the digest's recipient): no display name, spaces or header-breaking characters."""
    local, at, domain = value.partition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in domain
        or len(value) > 254
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>(),;:"[]\\' for c in value)
        or domain.startswith(".")
        or domain.endswith(".")
    ):
        fail(f"--email must be one address like runner@example.com, not {shown(value)}", 2)
    return value


def check_timezone(value: Optional[str]) -> Optional[str]:
    """An IANA time zone name (Europe/London), or None for Strava's."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        if value.strip() != value or not value or value.startswith(("/", ".")) or ".." in value:
            raise ValueError(value)
        ZoneInfo(value)
    except Exception:  # ZoneInfoNotFoundError, ValueError, IsADirectoryError for "Europe", ...
        fail(f"--timezone must be an IANA time zone such as Europe/London or UTC, not {shown(value)}", 2)
    return value


def check_http_url(option: str, value: str) -> str:
    """An absolute http(s) URL with a host (callback and redirect addresses)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        fail(f"{option} must be an http:// or https:// address with a host, not {shown(value)}", 2)
    return value


def parse_week(value: Optional[str]) -> Optional[datetime.date]:
    """The Monday of --week (None for each athlete's last complete week); anything else exits 1."""
    import re

    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # fromisoformat also takes 20261116 and 2026-W47-1
            raise ValueError(value)
        week = datetime.date.fromisoformat(value)
    except ValueError:
        fail(f"--week must be a date like 2026-11-16, not {shown(value)}")
    if week.weekday() != 0:
        fail(f"--week must be a Monday; {week.isoformat()} is a {week:%A}")
    today = datetime.datetime.now(datetime.UTC).date()
    if week < datetime.date(2000, 1, 3) or week > today + datetime.timedelta(days=1):
        fail(f"--week must be a Monday between 2000-01-03 and this week, not {week.isoformat()}")
    return week
