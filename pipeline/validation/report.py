"""The validation report (latest runs, open quarantine per athlete) and the email's data-quality note.

It works on a read-only connection and on warehouses from before the `message` and
`superseded_by` columns existed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class SuiteRun:
    """One suite's run on one batch, as recorded in `validation_runs`."""

    suite: str
    batch_id: str
    started_at: datetime
    rows_checked: int
    rows_passed: int
    rows_quarantined: int
    success: bool
    duration_s: float
    message: str | None


@dataclass(frozen=True)
class OpenQuarantine:
    """Open (not released, not superseded) quarantined rows of one athlete in one table."""

    athlete_id: int | None
    table_name: str
    open_rows: int
    reasons: tuple[str, ...]  # failed expectation names, most frequent first


@dataclass(frozen=True)
class ValidationReport:
    """The latest runs (newest first) and what is still held back."""

    latest_runs: list[SuiteRun]
    open_quarantine: list[OpenQuarantine]

    def for_athlete(self, athlete_id: int) -> list[OpenQuarantine]:
        return [q for q in self.open_quarantine if q.athlete_id == athlete_id]


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    row = con.execute(
        "select count(*) from duckdb_columns() where table_name = ? and column_name = ? "
        "and database_name = current_database()",
        [table, column],
    ).fetchone()
    return bool(row and row[0])


def validation_report(con: duckdb.DuckDBPyConnection, runs: int = 10) -> ValidationReport:
    """The latest validation runs and open quarantine counts per athlete (works read-only)."""
    message = "message" if _has_column(con, "validation_runs", "message") else "null"
    latest = [
        SuiteRun(*row)
        for row in con.execute(
            f"""select suite, batch_id, started_at, rows_checked, rows_passed, rows_quarantined,
                       success, duration_s, {message}
                from validation_runs
                where rows_checked > 0 or not success  -- runs on empty frames are noise here
                order by started_at desc, suite limit ?""",
            [runs],
        ).fetchall()
    ]
    open_filter = "released_at is null" + (
        " and superseded_by is null" if _has_column(con, "quarantine", "superseded_by") else ""
    )
    rows = con.execute(
        f"""with open as (select athlete_id, table_name, failed_expectations from quarantine where {open_filter}),
                 reasons as (
                   select athlete_id, table_name, reason, count(*) as n
                   from (select athlete_id, table_name, unnest(failed_expectations) as reason from open)
                   group by all)
            select o.athlete_id, o.table_name, count(*) as open_rows,
                   (select list(reason order by n desc, reason) from reasons r
                    where r.athlete_id is not distinct from o.athlete_id and r.table_name = o.table_name)
            from open o group by o.athlete_id, o.table_name
            order by o.athlete_id nulls last, o.table_name"""
    ).fetchall()
    return ValidationReport(
        latest_runs=latest,
        open_quarantine=[OpenQuarantine(a, t, int(n), tuple(r or ())) for a, t, n, r in rows],
    )


_NOUNS = {
    "activities": ("activity", "activities"),
    "splits": ("split", "splits"),
    "gear": ("gear item", "gear items"),
    "stream_features": ("stream summary", "stream summaries"),
    "athletes": ("profile update", "profile updates"),
    # elements of Strava bodies that could not become rows at all (pipeline.loading)
    "landing": ("unreadable Strava record", "unreadable Strava records"),
}


def quality_note(report: ValidationReport, athlete_id: int) -> str | None:
    """A one-sentence data-quality note for an athlete's weekly email, or None if nothing is held back."""
    parts = []
    reasons: list[str] = []
    for q in report.for_athlete(athlete_id):
        singular, plural = _NOUNS.get(q.table_name, (q.table_name, q.table_name))
        parts.append(f"{q.open_rows} {singular if q.open_rows == 1 else plural}")
        reasons.extend(r for r in q.reasons if r not in reasons)
    if not parts:
        return None
    why = ", ".join(r.replace("_", " ") for r in reasons[:3])
    return (
        f"{_join(parts)} held back by data checks ({why}) and left out of this week's analysis; "
        "they are kept and re-checked when the checks change."
    )


def _join(parts: Iterable[str]) -> str:
    items = list(parts)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
