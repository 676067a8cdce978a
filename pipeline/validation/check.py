"""Checking one table's frame with its suite: schema, then whole-batch, then row expectations.

Failing rows are found by their position: the frame gets a fresh RangeIndex, so GX's
`unexpected_index_list` holds row positions, which also works for composite keys and for
duplicated keys (where key values alone cannot tell two rows apart).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipeline.validation.derived import derive_columns
from pipeline.validation.errors import BatchValidationError
from pipeline.validation.suite_files import Check, Suite
from pipeline.validation.suites import run_gx


@dataclass
class FrameOutcome:
    """Which rows of a frame passed, and which expectations each failing row broke."""

    passed: np.ndarray  # bool per row position
    failures: dict[int, list[str]]  # row position -> failed expectation names (suite order)


def check_frame(
    con: duckdb.DuckDBPyConnection,
    suite: Suite,
    frame: pd.DataFrame,
    batch_frames: dict[str, pd.DataFrame] | None = None,
    batch_id: str = "",
    whole_batch_checks: bool = True,
) -> FrameOutcome:
    """Run a suite on one frame (positional index): schema, then whole-batch, then row checks.

    `whole_batch_checks=False` skips the 'batch' level: a re-check of quarantined rows is not
    a batch from the API, and rows held back for a missing field may all lack it.
    """
    frame = frame.reset_index(drop=True)
    _check_schema(con, suite, frame, batch_id)
    if whole_batch_checks:
        _check_whole_batch(suite, frame, batch_id)
    checked = pd.concat([frame, derive_columns(con, suite, frame, batch_frames or {})], axis=1)
    failures = _row_failures(suite, gx_view(checked, suite.level("row")), batch_id)
    passed = np.ones(len(frame), dtype=bool)
    passed[list(failures)] = False
    return FrameOutcome(passed=passed, failures=failures)


def _check_schema(con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame, batch_id: str) -> None:
    """'schema' expectations on the frame's description; the first failure stops the batch."""
    for check, result in run_gx(suite, "schema", describe_frame(con, frame)):
        if not result.success:
            if "column" in check.kwargs and check.kwargs["column"] not in frame.columns:
                detail = f"column '{check.kwargs['column']}' is missing"
            else:
                seen = result.result.get("unexpected_list") or []
                detail = f"found type {', '.join(map(str, seen))}" if seen else "failed"
            _fail_batch(suite, check, detail, batch_id)


def _check_whole_batch(suite: Suite, frame: pd.DataFrame, batch_id: str) -> None:
    """'batch' expectations on the whole frame; the first failure stops the batch."""
    batch_checks = suite.level("batch")
    if not batch_checks:
        return
    for check, result in run_gx(suite, "batch", gx_view(frame, batch_checks)):
        if not result.success:
            _fail_batch(suite, check, f"observed {result.result.get('observed_value')}", batch_id)


def _row_failures(suite: Suite, checked: pd.DataFrame, batch_id: str) -> dict[int, list[str]]:
    """'row' expectations on the rows plus derived columns: row position -> failed names, in suite order."""
    failures: dict[int, list[str]] = {}
    order = {c.name: i for i, c in enumerate(suite.checks)}
    for check, result in run_gx(suite, "row", checked):
        exception = (result.exception_info or {}).get("exception_message")
        if exception:
            raise BatchValidationError(
                f"suite '{suite.name}', expectation {check.describe()} could not run on batch {batch_id!r}: {exception}"
            )
        if result.success:
            continue
        positions = result.result.get("unexpected_index_list")
        if positions is None:
            raise BatchValidationError(
                f"suite '{suite.name}', expectation {check.describe()} failed for the whole batch {batch_id!r} "
                "(it is not a row-level expectation: mark it level 'batch' or use a column expectation)"
            )
        for pos in positions:
            failures.setdefault(int(pos), []).append(check.name)
    for names in failures.values():
        names.sort(key=order.__getitem__)
    return failures


def _fail_batch(suite: Suite, check: Check, detail: str, batch_id: str) -> None:
    raise BatchValidationError(
        f"suite '{suite.name}', expectation {check.describe()}: {detail} in batch {batch_id!r}. {check.notes}".strip()
    )


def describe_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.DataFrame:
    """One row: for each column, its SQL type as DuckDB reads the DataFrame."""
    con.register("__bs_probe", frame)
    try:
        rows = con.execute("describe select * from __bs_probe").fetchall()
    finally:
        con.unregister("__bs_probe")
    # DuckDB names the type of an all-null object column '"NULL"'.
    return pd.DataFrame({name: [sql_type.strip('"')] for name, sql_type, *_ in rows})


def numpy_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Nullable pandas numbers (Int32, Float64, ...) as numpy ones, for GX only.

    GX compares masked extension arrays element by element in Python (about 10x slower on
    100,000 rows); numpy int64 (no nulls) or float64 (nulls as NaN) take its vectorised path.
    """
    converted = {}
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_numeric_dtype(dtype):
            if pd.api.types.is_bool_dtype(dtype):
                continue
            column = frame[name]
            integer = pd.api.types.is_integer_dtype(dtype) and not column.hasnans
            converted[name] = column.to_numpy(
                dtype="int64" if integer else "float64", na_value=np.nan if not integer else 0
            )
    return frame.assign(**converted) if converted else frame


def gx_view(frame: pd.DataFrame, checks: Iterable[Check]) -> pd.DataFrame:
    """Only the columns `checks` read, as numpy numbers: GX copies and filters the whole frame
    for every expectation, so unread columns cost time for nothing."""
    used = dict.fromkeys(col for check in checks for col in check.columns() if col in frame.columns)
    return numpy_numbers(frame[list(used)])
