"""Deriving typed rows from landed payloads, with DuckDB's JSON functions (sql/derive/*.sql).

Bulk SQL, no Python row loops except for stream summaries. Every query reads the temp table
`pending_batches`; the activity queries also read the temp table `activity_items`, the athlete
and gear queries the temp table `newest_profiles`.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from pipeline.loading.merge import table_columns
from pipeline.loading.streams import summarise_streams
from pipeline.sql_files import sql_query

log = logging.getLogger(__name__)


def _stream_features(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per activity: cadence, pace and heart rate in the first and last thirds of the time."""
    rows = con.execute(sql_query("derive/stream_bodies")).fetchall()
    out = [
        summarise_streams(activity_id, athlete_id, landing_id, text)
        for activity_id, athlete_id, landing_id, text in rows
    ]
    columns = table_columns(con, "stream_features")
    return pd.DataFrame([r for r in out if r is not None], columns=columns)


def _prepare(con: duckdb.DuckDBPyConnection, batch_ids: list[str]) -> None:
    """The temp tables and macros every derive query reads."""
    con.execute("create or replace temp table pending_batches (batch_id varchar)")
    con.executemany("insert into pending_batches values (?)", [[b] for b in batch_ids])
    con.execute(sql_query("derive/json_readers"))
    con.execute(f"create or replace temp table activity_items as {sql_query('derive/activity_items')}")
    con.execute(f"create or replace temp table newest_profiles as {sql_query('derive/newest_profiles')}")


def derive_frames(con: duckdb.DuckDBPyConnection, batch_ids: list[str]) -> dict[str, pd.DataFrame]:
    """Typed rows for every object touched by `batch_ids`, from its newest landed payloads."""
    _prepare(con, batch_ids)
    frames = {
        "athletes": con.execute(sql_query("derive/athletes")).df(),
        "activities": con.execute(sql_query("derive/activities")).df(),
        "splits": con.execute(sql_query("derive/splits")).df(),
        "gear": con.execute(sql_query("derive/gear")).df(),
        "stream_features": _stream_features(con),
    }
    _log_problems(con, frames["activities"])
    return frames


def _log_problems(con: duckdb.DuckDBPyConnection, activities: pd.DataFrame) -> None:
    """Log landed payloads that could not be parsed or keyed (they stay in landing)."""
    for endpoint, object_id, error in con.execute(sql_query("derive/unusable_bodies")).fetchall():
        log.warning("landing: %s %s could not be used: %s", endpoint, object_id or "(no id)", error or "missing id")
    if not activities.empty:
        bad = activities[activities["start_date"].isna() | activities["distance"].isna()]
        for activity_id in bad["activity_id"].tolist()[:50]:
            log.warning("activity %s: missing or unreadable start_date/distance", activity_id)
