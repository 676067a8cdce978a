"""The weekly digest run's decisions, as the weekly_digest DAG wires them: which week a run
sends, and what the sends of that week add up to (counts, and why a runner got nothing yet)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

STATUSES = ("sent", "skipped_already_sent", "held", "failed")


def last_complete_week(day: date) -> date:
    """The Monday of the last whole Monday-to-Sunday week before `day`."""
    return day - timedelta(days=day.weekday() + 7)


@dataclass(frozen=True)
class WeekOutcome:
    """What one week's sends came to: a count per status, and the runners who got nothing yet."""

    counts: dict[str, int]
    problems: list[str]


def week_outcome(results: Iterable[Any], waiting: Sequence[int]) -> WeekOutcome:
    """Count the send results (objects with `status`, `athlete_id`, `reason`) of one week.

    `problems` names each held athlete with its reason and, first, the athletes not synced since
    their week ended (`waiting`): those runners got no digest yet and the operator must know.
    """
    results = list(results)
    counts = {s: sum(r.status == s for r in results) for s in STATUSES}
    counts["waiting_for_sync"] = len(waiting)
    problems = [f"athlete {r.athlete_id}: {r.reason}" for r in results if r.status == "held"]
    if waiting:
        problems.insert(0, f"athletes {list(waiting)} have not been synced since their week ended")
    return WeekOutcome(counts, problems)
