"""Which week a digest covers, on the athlete's own calendar, and how weeks are written."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def athlete_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def last_complete_week(timezone: str | None, now: dt.datetime | None = None) -> dt.date:
    """The Monday of the last complete ISO week (Mon-Sun) on the athlete's own calendar."""
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(athlete_zone(timezone)).date()
    return today - dt.timedelta(days=today.weekday() + 7)


def week_label(week_start: dt.date) -> str:
    return f"{week_start.day} {week_start:%b}"


def week_range_label(week_start: dt.date) -> str:
    end = week_start + dt.timedelta(days=6)
    if end.month == week_start.month:
        return f"{week_start.day}-{end.day} {end:%B %Y}"
    if end.year == week_start.year:
        return f"{week_start.day} {week_start:%B} - {end.day} {end:%B %Y}"
    return f"{week_start.day} {week_start:%B %Y} - {end.day} {end:%B %Y}"
