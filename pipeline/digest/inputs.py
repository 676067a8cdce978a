"""Reading the marts a digest needs, for a batch of athletes at once (one query per table)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb

from pipeline.digest.data_gaps import WeekGaps, as_date, read_gaps
from pipeline.digest.weeks import athlete_zone

# The chart looks back this many weeks, so the reads do too.
CHART_WEEKS = 12


@dataclass
class AthleteRow:
    athlete_id: int
    firstname: str | None
    email: str | None
    timezone: str | None
    digest_enabled: bool


@dataclass
class DigestInputs:
    """Everything one digest says, read from the marts for one athlete and week."""

    athlete: AthleteRow
    week_start: dt.date
    weeks: dict[dt.date, dict[str, Any]] = field(default_factory=dict)  # weekly_load rows by week
    flags: list[dict[str, Any]] = field(default_factory=list)  # risk_flags for the chart's weeks
    shoes: list[dict[str, Any]] = field(default_factory=list)
    quarantined: int = 0  # activities of this week held in quarantine
    gaps: WeekGaps = field(default_factory=WeekGaps)  # what the warehouse could not see of the week


REQUIRED_RELATIONS = ("athletes", "weekly_load", "risk_flags", "shoe_status", "quarantine", "digest_log")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def check_relations(con: duckdb.DuckDBPyConnection) -> None:
    present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    missing = [name for name in REQUIRED_RELATIONS if name not in present]
    if missing:
        raise RuntimeError(
            f"the warehouse has no {', '.join(missing)} yet: run `backstride build` (or `backstride demo`) first"
        )


def read_athletes(con: duckdb.DuckDBPyConnection, athlete_id: int | None) -> list[AthleteRow]:
    sql = "select athlete_id, firstname, email, timezone, digest_enabled from athletes"
    params: list[Any] = []
    if athlete_id is not None:
        sql += " where athlete_id = ?"
        params.append(athlete_id)
    rows = _rows(con, sql + " order by athlete_id", params)
    if athlete_id is not None and not rows:
        raise LookupError(f"no athlete {athlete_id} in the warehouse")
    return [AthleteRow(**r) for r in rows]


def _parse_metrics(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def read_rule_sources(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each rule's source from the rule catalogue (the `rule_thresholds` seed), if it was built."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_name = 'rule_thresholds'"
    ).fetchone()
    if not present or not present[0]:
        return {}
    rows = con.execute(
        "select rule_id, arg_min(source, param) from rule_thresholds where source is not null group by rule_id"
    ).fetchall()
    return {str(rule_id): str(source) for rule_id, source in rows}


IN_IDS = "athlete_id in (select unnest(?::bigint[]))"


def read_inputs(
    con: duckdb.DuckDBPyConnection, athletes: Sequence[AthleteRow], weeks: dict[int, dt.date]
) -> dict[int, DigestInputs]:
    """Read the marts for all athletes at once (one query per table), grouped per athlete."""
    ids = [a.athlete_id for a in athletes]
    if not ids:
        return {}
    first = min(weeks.values()) - dt.timedelta(weeks=CHART_WEEKS - 1)
    last = max(weeks.values())
    inputs = {a.athlete_id: DigestInputs(a, weeks[a.athlete_id]) for a in athletes}
    _read_weekly_load(con, inputs, ids, first, last)
    _read_flags(con, inputs, ids, first, last)
    _read_shoes(con, inputs, ids)
    _read_gaps(con, inputs, athletes, weeks)
    return inputs


def _read_weekly_load(
    con: duckdb.DuckDBPyConnection, inputs: dict[int, DigestInputs], ids: list[int], first: dt.date, last: dt.date
) -> None:
    for row in _rows(
        con, f"select * from weekly_load where {IN_IDS} and week_start between ? and ?", [ids, first, last]
    ):
        item = inputs[row["athlete_id"]]
        week = as_date(row["week_start"])
        if week is not None and item.week_start - dt.timedelta(weeks=CHART_WEEKS - 1) <= week <= item.week_start:
            item.weeks[week] = row


def _read_flags(
    con: duckdb.DuckDBPyConnection, inputs: dict[int, DigestInputs], ids: list[int], first: dt.date, last: dt.date
) -> None:
    for row in _rows(
        con,
        f"""select athlete_id, week_start, factor, rule_id, severity, evidence, message, metrics
            from risk_flags where {IN_IDS} and week_start between ? and ?""",
        [ids, first, last],
    ):
        row["week_start"] = as_date(row["week_start"])
        row["metrics"] = _parse_metrics(row["metrics"])
        inputs[row["athlete_id"]].flags.append(row)


def _read_shoes(con: duckdb.DuckDBPyConnection, inputs: dict[int, DigestInputs], ids: list[int]) -> None:
    for row in _rows(
        con, f"select * from shoe_status where {IN_IDS} order by distance_km desc nulls last, gear_id", [ids]
    ):
        inputs[row["athlete_id"]].shoes.append(row)


def _read_gaps(
    con: duckdb.DuckDBPyConnection,
    inputs: dict[int, DigestInputs],
    athletes: Sequence[AthleteRow],
    weeks: dict[int, dt.date],
) -> None:
    """Quarantined rows count for the week the activity happened in (its local start date), or,
    when the row has no usable date, the week it was quarantined: see `data_gaps`."""
    gaps = read_gaps(
        con,
        {a.athlete_id: weeks[a.athlete_id] for a in athletes},
        {a.athlete_id: athlete_zone(a.timezone) for a in athletes},
    )
    for athlete_id, week_gaps in gaps.items():
        inputs[athlete_id].gaps = week_gaps
        inputs[athlete_id].quarantined = week_gaps.count("quarantine_week")


def read_logged(con: duckdb.DuckDBPyConnection) -> dict[tuple[int, dt.date | None], str]:
    """The digest_log status of every athlete and week already handled."""
    return {
        (r["athlete_id"], as_date(r["week_start"])): r["status"]
        for r in _rows(con, "select athlete_id, week_start, status from digest_log")
    }
