"""Derived columns: a suite's DuckDB SQL expressions evaluated for each new row.

They turn per-sport bounds and cross-table checks into plain columns, so every row check stays
an ordinary GX expectation.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.validation.errors import BatchValidationError
from pipeline.validation.suite_files import VALIDATED_TABLES, Suite


def derive_columns(
    con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame, batch_frames: dict[str, pd.DataFrame]
) -> pd.DataFrame:
    """Evaluate the suite's derived columns (DuckDB SQL) for each row, in row order.

    Besides `new_rows` and the warehouse tables, the SQL can read this batch's other tables:
    `new_<table>` (rows that passed) and `held_<table>` (rows just quarantined, whose older
    version may still sit in the warehouse table until the loader replaces it).
    """
    if not suite.derived_columns:
        return pd.DataFrame(index=frame.index)
    clash = sorted(set(suite.derived_columns) & set(frame.columns))
    if clash:
        raise BatchValidationError(
            f"suite '{suite.name}': derived column(s) {', '.join(clash)} in {suite.path} shadow batch columns"
        )
    registered = ["new_rows"]
    con.register("new_rows", frame.assign(__row=np.arange(len(frame))))
    try:
        registered += _register_batch_views(con, suite, batch_frames)
        derived = _select_derived(con, suite)
    finally:
        for name in registered:
            con.unregister(name)
    derived.index = frame.index
    return derived


def _register_batch_views(
    con: duckdb.DuckDBPyConnection, suite: Suite, batch_frames: dict[str, pd.DataFrame]
) -> list[str]:
    """Register `new_<table>` and `held_<table>` for every other validated table (empty, typed
    like the table, when the batch has none); returns the names registered."""
    registered = []
    for table in VALIDATED_TABLES:
        if table == suite.name:
            continue
        for view in (f"new_{table}", f"held_{table}"):
            other = batch_frames.get(view)
            if other is None:
                other = con.execute(f'select * from "{table}" limit 0').df()
            con.register(view, other)
            registered.append(view)
    return registered


def _select_derived(con: duckdb.DuckDBPyConnection, suite: Suite) -> pd.DataFrame:
    exprs = ", ".join(f'({sql}) as "{name}"' for name, sql in suite.derived_columns.items())
    try:
        return con.execute(f"select {exprs} from new_rows order by __row").df()
    except duckdb.Error as e:
        raise BatchValidationError(
            f"suite '{suite.name}': a derived column in {suite.path} could not be computed "
            f"for this batch (a column it reads is missing or changed type?): {e}"
        ) from None
