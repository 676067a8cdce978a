"""Validating a batch: each table's new rows checked with its suite, failures quarantined, runs recorded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipeline.validation.check import FrameOutcome, check_frame
from pipeline.validation.engine import engine
from pipeline.validation.errors import BatchValidationError
from pipeline.validation.store import record_run, write_quarantine
from pipeline.validation.suite_files import VALIDATED_TABLES, Suite, load_suite


def validate_frames(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    batch_id: str,
    suites_dir: Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Validate each table's new rows with its suite; write failing rows to `quarantine` and one
    `validation_runs` row per suite; return the passing rows per table (same columns).

    Raises BatchValidationError (naming suite and expectation) when a whole frame is unusable.
    """
    unknown = set(frames) - set(VALIDATED_TABLES)
    if unknown:
        raise BatchValidationError(f"no suite for table(s) {', '.join(sorted(unknown))}")
    engine()  # the one-off import is not part of any run's duration
    passing: dict[str, pd.DataFrame] = {}
    batch_frames: dict[str, pd.DataFrame] = {}  # view name (new_gear, held_gear, ...) -> rows
    for table in VALIDATED_TABLES:
        if table in frames:
            suite = load_suite(table, suites_dir)
            good, outcome = validate_and_store(con, suite, frames[table], batch_frames, batch_id)
            passing[table] = batch_frames[f"new_{table}"] = good
            held = frames[table].reset_index(drop=True)[~outcome.passed] if len(outcome.passed) else None
            if held is not None:
                batch_frames[f"held_{table}"] = held
    return passing


def validate_and_store(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    frame: pd.DataFrame,
    batch_frames: dict[str, pd.DataFrame],
    batch_id: str,
) -> tuple[pd.DataFrame, FrameOutcome]:
    """Check one table's rows, quarantine failures, record the run; returns the passing rows."""
    started, t0 = datetime.now(UTC), time.perf_counter()
    frame = frame.reset_index(drop=True)
    if frame.empty:
        outcome = FrameOutcome(passed=np.zeros(0, dtype=bool), failures={})
    else:
        outcome = check_or_record_failure(con, suite, frame, batch_frames, batch_id, started, t0)
    quarantined = write_quarantine(con, suite, frame, outcome, batch_id) if len(frame) else 0
    record_run(con, suite.name, batch_id, started, time.perf_counter() - t0, frame, quarantined)
    return frame[outcome.passed].reset_index(drop=True), outcome


def check_or_record_failure(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    frame: pd.DataFrame,
    batch_frames: dict[str, pd.DataFrame],
    batch_id: str,
    started: datetime,
    t0: float,
    whole_batch_checks: bool = True,
) -> FrameOutcome:
    """`check_frame`, recording a failed run (with the error) before a batch failure propagates.

    `t0` is the `time.perf_counter()` reading the run's duration is measured from.
    """
    try:
        return check_frame(con, suite, frame, batch_frames, batch_id, whole_batch_checks=whole_batch_checks)
    except BatchValidationError as e:
        record_run(con, suite.name, batch_id, started, time.perf_counter() - t0, frame, 0, str(e))
        raise
