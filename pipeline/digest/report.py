"""What a digest run produces: one result per athlete considered, and their sum."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass
class DigestResult:
    """What happened for one athlete: status is sent | skipped_already_sent | disabled | held | failed.

    `held`: the last sync failed or has not listed the whole week, so nothing was sent or
    recorded (`reason` says why); a later run sends it once the data is there. `gaps` sums up
    what a sent digest could not see and which factors it did not judge.
    """

    athlete_id: int
    week_start: dt.date | None
    status: str
    path: str | None = None
    message_id: str | None = None
    error: str | None = None
    subject: str | None = None
    reason: str | None = None
    gaps: str | None = None
    snapshot_id: int | None = None  # the lake snapshot the email was computed from

    def __str__(self) -> str:
        week = self.week_start.isoformat() if self.week_start else "-"
        line = f"athlete {self.athlete_id} week {week}: {self.status}"
        if self.status == "sent":
            line += f" -> {self.path or self.message_id}"
        if self.reason:
            line += f" ({self.reason})"
        if self.gaps:
            line += f" [incomplete data: {self.gaps}]"
        return line + (f" ({self.error})" if self.error else "")


@dataclass
class DigestReport:
    """One entry per athlete considered, in the order they were handled."""

    results: list[DigestResult] = field(default_factory=list)

    @property
    def items(self) -> list[DigestResult]:
        """The same list as `results` (the demo reads it under this name)."""
        return self.results

    @property
    def ok(self) -> bool:
        return not any(r.status == "failed" for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def by_athlete(self) -> dict[int, DigestResult]:
        return {r.athlete_id: r for r in self.results}

    @property
    def held(self) -> list[DigestResult]:
        """Athletes whose digest waits for a sync that succeeds (not failures of this run)."""
        return [r for r in self.results if r.status == "held"]

    def summary(self) -> dict[str, int]:
        """Counts per status, e.g. for an Airflow task's return value."""
        return {s: self.count(s) for s in ("sent", "skipped_already_sent", "disabled", "failed")}
