"""/athlete/activities paging, as Strava pages it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pipeline.strava_stub.answers import Answer, error
from pipeline.strava_stub.demo_data import summary_of


def list_activities(
    activities: list[dict[str, Any]],
    params: dict[str, Any],
    summary: Callable[[dict[str, Any]], dict[str, Any]] = summary_of,
) -> Answer:
    """SummaryActivity pages; newest first, except oldest first when only `after` is given."""
    try:
        page = int(params.get("page") or 1)
        per_page = int(params.get("per_page") or 30)
        after = int(float(params["after"])) if params.get("after") not in (None, "") else None
        before = int(float(params["before"])) if params.get("before") not in (None, "") else None
    except ValueError:
        return 400, error("Bad Request", "Activity", "page", "invalid")
    if page < 1 or per_page < 1:
        return 400, error("Bad Request", "Activity", "per_page", "invalid")
    return 200, [summary(a) for a in list_page(activities, page, per_page, after, before)]


def list_page(
    activities: list[dict[str, Any]], page: int, per_page: int, after: int | None, before: int | None
) -> list[dict[str, Any]]:
    """One page of /athlete/activities, as Strava pages it.

    Strictly after `after` and strictly before `before` (epoch seconds of start_date);
    newest first, except oldest first when `after` is given without `before`; at most 200
    a page. Equal start times keep their order in `activities`.
    """
    per_page = min(per_page, 200)
    chosen = []
    for activity in activities:
        start = _epoch(activity["start_date"])
        if after is not None and start <= after:
            continue
        if before is not None and start >= before:
            continue
        chosen.append((start, activity))
    oldest_first = after is not None and before is None
    chosen.sort(key=lambda item: item[0], reverse=not oldest_first)
    return [a for _, a in chosen[(page - 1) * per_page : page * per_page]]


@functools.lru_cache(maxsize=200_000)
def _epoch(stamp: str) -> int:
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
