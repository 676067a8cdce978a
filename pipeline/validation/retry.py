"""Re-checking quarantine: open rows judged again by the current suites, the passing ones released."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.validation.engine import engine
from pipeline.validation.store import mark_rechecked, open_quarantine_frame, record_run
from pipeline.validation.suite_files import VALIDATED_TABLES, Suite, load_suite
from pipeline.validation.validate import check_or_record_failure

Merge = Callable[[duckdb.DuckDBPyConnection, str, pd.DataFrame], object]


def retry_quarantine(
    con: duckdb.DuckDBPyConnection,
    merge: Merge,
    suites_dir: Path | None = None,
) -> dict[str, int]:
    """Re-check open quarantine rows with the current suites; pass released rows to `merge(con, table, df)`
    and set released_at; returns released counts per table.

    Tables go in validation order and each table's released rows are merged before the next
    table is checked, so a released activity can release its splits in the same retry.
    """
    engine()
    retry_id = "retry-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    released: dict[str, int] = {}
    batch_frames: dict[str, pd.DataFrame] = {}
    for table in VALIDATED_TABLES:
        frame, ids = open_quarantine_frame(con, table)
        if frame.empty:
            continue
        suite = load_suite(table, suites_dir)
        released[table] = _recheck_table(con, suite, frame, ids, batch_frames, retry_id, merge)
    return released


def _recheck_table(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    frame: pd.DataFrame,
    ids: pd.DataFrame,
    batch_frames: dict[str, pd.DataFrame],
    retry_id: str,
    merge: Merge,
) -> int:
    """Re-check one table's open rows, merge and release those that pass; returns how many did.

    Adds the table's `new_`/`held_` frames to `batch_frames` for the tables checked after it.
    """
    started, t0 = datetime.now(UTC), time.perf_counter()
    outcome = check_or_record_failure(con, suite, frame, batch_frames, retry_id, started, t0, whole_batch_checks=False)
    good = frame[outcome.passed].reset_index(drop=True)
    if not good.empty:
        merge(con, suite.name, good)
    mark_rechecked(con, suite.name, ids, outcome)
    record_run(con, suite.name, retry_id, started, time.perf_counter() - t0, frame, int((~outcome.passed).sum()))
    batch_frames[f"new_{suite.name}"] = good
    batch_frames[f"held_{suite.name}"] = frame[~outcome.passed]
    return len(good)
