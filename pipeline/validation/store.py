"""The `quarantine` and `validation_runs` tables: writing held-back rows and runs, reading open rows back.

A quarantined row is kept as JSON with the names of the expectations it broke, one row per
record key; a newer version of a record supersedes the older open one.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from pipeline.upsert import upsert
from pipeline.validation.check import FrameOutcome
from pipeline.validation.suite_files import Suite

OPEN = "released_at is null and superseded_by is null"


def key_sql(suite: Suite) -> str:
    """SQL for a row's primary key as text (`r` is the row), e.g. '123' or '123:4'."""
    return " || ':' || ".join(f"coalesce(cast(r.\"{k}\" as varchar), 'null')" for k in suite.key_columns)


def quarantine_rows(con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of `frame`: record_key, athlete_id, activity_id and the row as JSON."""
    athlete = "r.athlete_id" if "athlete_id" in frame.columns else "null"
    activity = "r.activity_id" if "activity_id" in frame.columns else "null"
    packed = ", ".join(f'"{c}" := r."{c}"' for c in frame.columns)
    con.register("__bs_rows", frame.assign(__row=np.arange(len(frame))))
    try:
        return con.execute(
            f"""select {key_sql(suite)} as record_key, cast({athlete} as bigint) as athlete_id,
                       cast({activity} as bigint) as activity_id, to_json(struct_pack({packed})) as row_json
                from __bs_rows r order by __row"""
        ).df()
    finally:
        con.unregister("__bs_rows")


def write_quarantine(
    con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame, outcome: FrameOutcome, batch_id: str
) -> int:
    """Store failing rows (one quarantine row per record key) and supersede older open versions."""
    _supersede_older_versions(con, suite, frame, batch_id)
    if not outcome.failures:
        return 0
    positions = sorted(outcome.failures)
    bad = quarantine_rows(con, suite, frame.iloc[positions].reset_index(drop=True))
    bad["failed"] = [outcome.failures[p] for p in positions]
    _insert_quarantined(con, suite, _one_per_key(bad), batch_id)
    return len(positions)


def _supersede_older_versions(con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame, batch_id: str) -> None:
    """Open rows of earlier batches with a key this batch brings again are superseded by it."""
    con.register("__bs_rows", frame)
    try:
        con.execute(
            f"""update quarantine set superseded_by = ?, released_at = now()
                where table_name = ? and batch_id <> ? and released_at is null and superseded_by is null
                  and record_key in (select {key_sql(suite)} from __bs_rows r)""",
            [batch_id, suite.name, batch_id],
        )
    finally:
        con.unregister("__bs_rows")


def _one_per_key(bad: pd.DataFrame) -> pd.DataFrame:
    """Rows sharing a key in one batch (duplicates) become one quarantine row."""
    merged = bad.groupby("record_key", sort=False).agg(
        athlete_id=("athlete_id", "last"),
        activity_id=("activity_id", "last"),
        row_json=("row_json", "last"),
        failed=("failed", lambda s: list(dict.fromkeys(n for names in s for n in names))),
    )
    return merged.reset_index()


QUARANTINE_COLUMNS = (
    "table_name",
    "record_key",
    "athlete_id",
    "activity_id",
    "batch_id",
    "failed_expectations",
    "row_json",
    "quarantined_at",
    "released_at",
    "superseded_by",
)


def _insert_quarantined(con: duckdb.DuckDBPyConnection, suite: Suite, merged: pd.DataFrame, batch_id: str) -> None:
    con.register("__bs_bad", merged)
    try:
        upsert(
            con,
            "quarantine",
            """(select ? as table_name, record_key, athlete_id, activity_id, ? as batch_id,
                       cast(failed as varchar[]) as failed_expectations, cast(row_json as json) as row_json,
                       now() as quarantined_at, null::timestamptz as released_at, null::varchar as superseded_by
                from __bs_bad)""",
            QUARANTINE_COLUMNS,
            [suite.name, batch_id],
        )
    finally:
        con.unregister("__bs_bad")


def record_run(
    con: duckdb.DuckDBPyConnection,
    suite: str,
    batch_id: str,
    started: datetime,
    duration_s: float,
    frame: pd.DataFrame,
    quarantined: int,
    message: str | None = None,
) -> None:
    """One `validation_runs` row; `message` is the error of a run that stopped its batch."""
    athletes = sorted({int(a) for a in frame["athlete_id"].dropna()}) if "athlete_id" in frame.columns else []
    passed = 0 if message else len(frame) - quarantined
    con.execute(
        """insert into validation_runs (run_id, suite, batch_id, started_at, rows_checked, rows_passed,
               rows_quarantined, success, duration_s, athlete_ids, message)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            uuid.uuid4().hex,
            suite,
            batch_id,
            started,
            len(frame),
            passed,
            quarantined,
            message is None and quarantined == 0,
            duration_s,
            athletes,
            message,
        ],
    )


def open_quarantine_frame(con: duckdb.DuckDBPyConnection, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Open quarantined rows of a table, typed like the table; plus their quarantine ids."""
    ids = con.execute(
        f"""select record_key, batch_id, row_json from quarantine
           where table_name = ? and {OPEN}
           order by quarantined_at, record_key""",
        [table],
    ).df()
    if ids.empty:
        return ids, ids
    columns = _quarantined_columns(con, table)
    structure = json.dumps({name: sql_type for name, sql_type in columns})
    select = ", ".join(f'r."{name}"' for name, _ in columns)
    con.register("__bs_open", ids.assign(__row=np.arange(len(ids))))
    try:
        frame = con.execute(
            f"""select {select} from (
                  select __row, unnest(json_transform(row_json, ?)) from __bs_open
                ) r order by __row""",
            [structure],
        ).df()
    finally:
        con.unregister("__bs_open")
    return frame, ids[["record_key", "batch_id"]]


def _quarantined_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, SQL type) of the table's columns that some open quarantined row holds, in table order."""
    present = {
        r[0]
        for r in con.execute(
            f"select distinct unnest(json_keys(row_json)) from quarantine where table_name = ? and {OPEN}",
            [table],
        ).fetchall()
    }
    return [
        (name, sql_type)
        for name, sql_type in con.execute(
            "select column_name, data_type from duckdb_columns() where table_name = ? "
            "and database_name = current_database() order by column_index",
            [table],
        ).fetchall()
        if name in present
    ]


def mark_rechecked(con: duckdb.DuckDBPyConnection, table: str, ids: pd.DataFrame, outcome: FrameOutcome) -> None:
    """After a re-check: passing rows are released, the others keep their row with the new reasons."""
    status = ids.assign(
        released=outcome.passed,
        failed=[outcome.failures.get(i, []) for i in range(len(ids))],
    )
    con.register("__bs_status", status)
    try:
        con.execute(
            """update quarantine q set released_at = case when s.released then now() end,
                      failed_expectations = case when s.released then q.failed_expectations
                                                 else cast(s.failed as varchar[]) end
               from __bs_status s
               where q.table_name = ? and q.record_key = s.record_key and q.batch_id = s.batch_id""",
            [table],
        )
    finally:
        con.unregister("__bs_status")
