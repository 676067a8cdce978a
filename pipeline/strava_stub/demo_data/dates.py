"""Dates and time zones as the demo data needs them: ISO weeks, Strava's zone labels."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def last_complete_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the last ISO week that ended before `today`."""
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def strava_zone(tz: str, at: datetime) -> str:
    """Strava's zone label, e.g. "(GMT+01:00) Europe/Berlin", at the given instant."""
    offset = at.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"(GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}) {tz}"


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def days(start: date, stop: date) -> Iterator[date]:
    """Days from start up to, not including, stop."""
    day = start
    while day < stop:
        yield day
        day += timedelta(days=1)


def weeks_back(day: date, week0: date) -> int:
    """0 for the last complete week, 1 for the week before, -1 for the current week."""
    monday = day - timedelta(days=day.weekday())
    return (week0 - monday).days // 7


def history(week0: date, weeks: int, today: date) -> Iterator[tuple[date, int, int]]:
    """(day, weeks back from `week0`, weekday) for every day from `weeks` weeks before `week0` to `today`."""
    for day in days(week0 - timedelta(weeks=weeks), today):
        yield day, weeks_back(day, week0), day.weekday()
