"""Read-only ad-hoc SQL on the warehouse, for runners and coaches.

A query must be exactly one SELECT (or EXPLAIN). It runs on a read-only connection with
external access disabled and the configuration locked, so it can neither write, nor read
or write files, nor attach or load anything: three independent locks.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import duckdb

from pipeline.config import Settings
from pipeline.warehouse import connect_reader

ALLOWED = {"SELECT", "EXPLAIN"}


class QueryRefused(ValueError):
    """The query would write, change settings or reach outside the warehouse."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def check_read_only(query: str) -> None:
    """Refuse anything but one SELECT/EXPLAIN statement, with a message saying why."""
    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as err:
        raise QueryRefused(f"could not parse the query: {err}") from None
    if not statements:
        raise QueryRefused("the query is empty")
    if len(statements) > 1:
        raise QueryRefused("only one statement per query is allowed")
    kind = statements[0].type.name
    if kind not in ALLOWED:
        raise QueryRefused(
            f"{kind} statements are refused: `backstride sql` is read-only (SELECT, WITH ... SELECT, "
            "DESCRIBE, SHOW, SUMMARIZE and EXPLAIN are allowed)"
        )


def run_query(settings: Settings, query: str, snapshot: int | None = None) -> QueryResult:
    """One read-only query on the last committed snapshot, or on snapshot `snapshot` (time travel)."""
    check_read_only(query)
    con = connect_reader(settings, snapshot=snapshot)
    try:
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description or []]
        rows = cursor.fetchall()
    except duckdb.PermissionException as err:
        raise QueryRefused(f"refused by the read-only connection: {err}") from None
    finally:
        con.close()
    return QueryResult(columns, rows)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta | UUID):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN or Infinity: "nan", "inf", "-inf"
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value, parse_constant=str)
        except (ValueError, RecursionError):
            return value
    return value


def to_json(result: QueryResult) -> str:
    """A JSON array of objects, one per row."""
    return json.dumps(
        [dict(zip(result.columns, map(_plain, row), strict=True)) for row in result.rows],
        indent=1,
        allow_nan=False,
        default=str,  # any other DuckDB type (intervals in structs, bit strings, ...) as text
    )


def to_csv(result: QueryResult) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(result.columns)
    for row in result.rows:
        w.writerow(
            [
                "" if v is None else (json.dumps(_plain(v), default=str) if isinstance(v, list | dict) else _plain(v))
                for v in row
            ]
        )
    return buf.getvalue()
