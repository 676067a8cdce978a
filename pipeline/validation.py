"""Data validation with Great Expectations: every new row is checked before the models see it.

Why: a broken device, a GPS glitch or a changed API must never turn into a false warning, and
no row may be lost. Each validated table has a suite in `expectations/<table>.json`, plain JSON
a user can read and edit without Python. A suite holds four kinds of entries:

- `schema` expectations run on a one-row frame that describes the batch: one column per
  DataFrame column, holding its SQL type as DuckDB reads it. A failure means the batch itself
  is broken (a required column missing, a type changed) and raises `BatchValidationError`
  naming the suite and the expectation.
- `batch` expectations run on the whole frame before any row is judged, for properties of the
  batch as a whole: a required field that is empty in every row means nothing was parsed (the
  API changed a format), which is a loud failure, not a quarantine of every row.
- `derived_columns`: DuckDB SQL expressions over the new rows (table `new_rows`) that may read
  the warehouse tables and this batch's other tables: the rows that passed (`new_gear`,
  `new_activities`, ...) and those just held back (`held_gear`, `held_activities`, ...). They
  turn per-sport bounds and cross-table checks into plain columns, so every row check stays an
  ordinary GX expectation.
- `row` expectations run on the rows plus derived columns. Rows that fail go to `quarantine`
  with the names of the expectations they broke; the rest are returned for merging.

Failing rows are found by their position: the frame gets a fresh RangeIndex, so GX's
`unexpected_index_list` holds row positions, which also works for composite keys and for
duplicated keys (where key values alone cannot tell two rows apart).

Great Expectations takes about 14 s to import: it is imported lazily, once, with one ephemeral
context per process, and each suite's expectation objects are built once per suite text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

# Validation order: a table's cross-table checks may read the passing rows of earlier tables.
VALIDATED_TABLES: tuple[str, ...] = ("athletes", "gear", "activities", "splits", "stream_features")
DEFAULT_SUITES_DIR = Path(__file__).resolve().parent.parent / "expectations"
LEVELS = ("schema", "batch", "row")


class BatchValidationError(RuntimeError):
    """The batch as a whole is unusable (schema drift, a broken suite); names suite and expectation."""


# --- suites --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One expectation of a suite, as written in its JSON file."""

    name: str
    level: str
    type: str
    kwargs: dict[str, Any]
    notes: str = ""

    def columns(self) -> list[str]:
        """The columns this expectation reads."""
        named = [self.kwargs[k] for k in ("column", "column_A", "column_B") if k in self.kwargs]
        return named + list(self.kwargs.get("column_list", []))

    def describe(self) -> str:
        target = self.kwargs.get("column") or ", ".join(
            str(self.kwargs[k]) for k in ("column_A", "column_B") if k in self.kwargs
        )
        target = target or ", ".join(self.kwargs.get("column_list", []))
        return f"{self.name} ({self.type}" + (f" on {target})" if target else ")")


@dataclass(frozen=True)
class Suite:
    """An expectation suite for one table, loaded from `expectations/<table>.json`."""

    name: str
    path: Path
    key_columns: tuple[str, ...]
    derived_columns: dict[str, str]
    checks: tuple[Check, ...]
    fingerprint: str

    def level(self, level: str) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level == level)


def load_suite(table: str, suites_dir: Path | None = None) -> Suite:
    """Read and check one suite file; a malformed suite fails loudly with its path."""
    path = (suites_dir or DEFAULT_SUITES_DIR) / f"{table}.json"
    try:
        text = path.read_text()
        data = json.loads(text)
    except FileNotFoundError:
        raise BatchValidationError(f"suite '{table}': no suite file at {path}") from None
    except json.JSONDecodeError as e:
        raise BatchValidationError(f"suite '{table}': {path} is not valid JSON: {e}") from None
    if data.get("name") != table:
        raise BatchValidationError(f"suite '{table}': {path} names itself {data.get('name')!r}")
    checks: list[Check] = []
    for i, item in enumerate(data.get("expectations", [])):
        missing = [k for k in ("name", "level", "type", "kwargs") if k not in item]
        if missing or item.get("level") not in LEVELS:
            raise BatchValidationError(
                f"suite '{table}': expectation #{i + 1} in {path} needs name, level "
                f"({' or '.join(LEVELS)}), type and kwargs"
            )
        checks.append(Check(item["name"], item["level"], item["type"], dict(item["kwargs"]), item.get("notes", "")))
    names = [c.name for c in checks]
    if len(set(names)) != len(names):
        raise BatchValidationError(f"suite '{table}': expectation names in {path} must be unique")
    derived = {
        name: spec["sql"] if isinstance(spec, dict) else spec for name, spec in data.get("derived_columns", {}).items()
    }
    return Suite(
        name=table,
        path=path,
        key_columns=tuple(data["key_columns"]),
        derived_columns=derived,
        checks=tuple(checks),
        fingerprint=hashlib.sha256(f"{path}\0{text}".encode()).hexdigest(),
    )


# --- Great Expectations engine (lazy, cached) -----------------------------------------------


def _quiet_gx_logging() -> None:
    """GX logs INFO lines on import (and sets one of its loggers to INFO); under Airflow's
    structlog they reach the console. Keep CLI output clean."""
    for name in ["great_expectations", *list(logging.root.manager.loggerDict)]:
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)


@dataclass
class _Engine:
    gx: Any
    batch_definition: Any
    suites: dict[tuple[str, str], Any] = field(default_factory=dict)  # (fingerprint, level) -> GX suite


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """One ephemeral GX context per process, with a pandas datasource for whole DataFrames."""
    global _ENGINE
    if _ENGINE is None:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"  # GX reads it at import time
        _quiet_gx_logging()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _quiet_gx_logging()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        asset = context.data_sources.add_pandas("backstride").add_dataframe_asset("frames")
        _ENGINE = _Engine(gx=gx, batch_definition=asset.add_batch_definition_whole_dataframe("whole"))
    return _ENGINE


def _gx_suite(suite: Suite, level: str) -> Any:
    """The GX suite for one level of a suite file, built once per file content."""
    engine = _engine()
    key = (suite.fingerprint, level)
    if key not in engine.suites:
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        expectations = []
        for check in suite.level(level):
            try:
                config = ExpectationConfiguration(type=check.type, kwargs=check.kwargs, meta={"name": check.name})
                expectations.append(config.to_domain_obj())
            except Exception as e:  # unknown type, bad kwargs
                raise BatchValidationError(
                    f"suite '{suite.name}': expectation {check.describe()} in {suite.path} is invalid: {e}"
                ) from None
        engine.suites[key] = engine.gx.ExpectationSuite(name=f"{suite.name}.{level}", expectations=expectations)
    return engine.suites[key]


def _run_gx(suite: Suite, level: str, frame: pd.DataFrame) -> list[tuple[Check, Any]]:
    """Validate `frame` with one level of `suite`; returns (check, GX result) pairs."""
    gx_suite = _gx_suite(suite, level)
    if not gx_suite.expectations:
        return []
    batch = _engine().batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(gx_suite, result_format={"result_format": "COMPLETE"})
    checks = suite.level(level)
    by_name = {c.name: c for c in checks}
    order = {c.name: i for i, c in enumerate(checks)}
    pairs = [(by_name[r.expectation_config.meta["name"]], r) for r in result.results]
    return sorted(pairs, key=lambda pair: order[pair[0].name])  # GX does not keep suite order


# --- checking one table's frame --------------------------------------------------------------


@dataclass
class FrameOutcome:
    """Which rows of a frame passed, and which expectations each failing row broke."""

    passed: np.ndarray  # bool per row position
    failures: dict[int, list[str]]  # row position -> failed expectation names (suite order)


def _describe_frame(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.DataFrame:
    """One row: for each column, its SQL type as DuckDB reads the DataFrame."""
    con.register("__bs_probe", frame)
    try:
        rows = con.execute("describe select * from __bs_probe").fetchall()
    finally:
        con.unregister("__bs_probe")
    # DuckDB names the type of an all-null object column '"NULL"'.
    return pd.DataFrame({name: [sql_type.strip('"')] for name, sql_type, *_ in rows})


def _derive(
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
        for table in VALIDATED_TABLES:
            if table == suite.name:
                continue
            for view in (f"new_{table}", f"held_{table}"):
                other = batch_frames.get(view)
                if other is None:
                    other = con.execute(f'select * from "{table}" limit 0').df()
                con.register(view, other)
                registered.append(view)
        exprs = ", ".join(f'({sql}) as "{name}"' for name, sql in suite.derived_columns.items())
        try:
            derived = con.execute(f"select {exprs} from new_rows order by __row").df()
        except duckdb.Error as e:
            raise BatchValidationError(
                f"suite '{suite.name}': a derived column in {suite.path} could not be computed "
                f"for this batch (a column it reads is missing or changed type?): {e}"
            ) from None
    finally:
        for name in registered:
            con.unregister(name)
    derived.index = frame.index
    return derived


def _numpy_numbers(frame: pd.DataFrame) -> pd.DataFrame:
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


def _gx_view(frame: pd.DataFrame, checks: Iterable[Check]) -> pd.DataFrame:
    """Only the columns `checks` read, as numpy numbers: GX copies and filters the whole frame
    for every expectation, so unread columns cost time for nothing."""
    used = dict.fromkeys(col for check in checks for col in check.columns() if col in frame.columns)
    return _numpy_numbers(frame[list(used)])


def _fail_batch(suite: Suite, check: Check, detail: str, batch_id: str) -> None:
    raise BatchValidationError(
        f"suite '{suite.name}', expectation {check.describe()}: {detail} in batch {batch_id!r}. {check.notes}".strip()
    )


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
    for check, result in _run_gx(suite, "schema", _describe_frame(con, frame)):
        if not result.success:
            if "column" in check.kwargs and check.kwargs["column"] not in frame.columns:
                detail = f"column '{check.kwargs['column']}' is missing"
            else:
                seen = result.result.get("unexpected_list") or []
                detail = f"found type {', '.join(map(str, seen))}" if seen else "failed"
            _fail_batch(suite, check, detail, batch_id)
    batch_checks = suite.level("batch") if whole_batch_checks else ()
    for check, result in _run_gx(suite, "batch", _gx_view(frame, batch_checks)) if batch_checks else ():
        if not result.success:
            _fail_batch(suite, check, f"observed {result.result.get('observed_value')}", batch_id)
    checked = pd.concat([frame, _derive(con, suite, frame, batch_frames or {})], axis=1)
    checked = _gx_view(checked, suite.level("row"))
    failures: dict[int, list[str]] = {}
    order = {c.name: i for i, c in enumerate(suite.checks)}
    for check, result in _run_gx(suite, "row", checked):
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
    passed = np.ones(len(frame), dtype=bool)
    passed[list(failures)] = False
    return FrameOutcome(passed=passed, failures=failures)


# --- warehouse writes ------------------------------------------------------------------------


def _key_sql(suite: Suite) -> str:
    """SQL for a row's primary key as text (`r` is the row), e.g. '123' or '123:4'."""
    return " || ':' || ".join(f"coalesce(cast(r.\"{k}\" as varchar), 'null')" for k in suite.key_columns)


def _quarantine_rows(con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame) -> pd.DataFrame:
    """Per row of `frame`: record_key, athlete_id, activity_id and the row as JSON."""
    athlete = "r.athlete_id" if "athlete_id" in frame.columns else "null"
    activity = "r.activity_id" if "activity_id" in frame.columns else "null"
    packed = ", ".join(f'"{c}" := r."{c}"' for c in frame.columns)
    con.register("__bs_rows", frame.assign(__row=np.arange(len(frame))))
    try:
        return con.execute(
            f"""select {_key_sql(suite)} as record_key, cast({athlete} as bigint) as athlete_id,
                       cast({activity} as bigint) as activity_id, to_json(struct_pack({packed})) as row_json
                from __bs_rows r order by __row"""
        ).df()
    finally:
        con.unregister("__bs_rows")


def _write_quarantine(
    con: duckdb.DuckDBPyConnection, suite: Suite, frame: pd.DataFrame, outcome: FrameOutcome, batch_id: str
) -> int:
    """Store failing rows (one quarantine row per record key) and supersede older open versions."""
    con.register("__bs_rows", frame)
    try:
        con.execute(
            f"""update quarantine set superseded_by = ?, released_at = now()
                where table_name = ? and batch_id <> ? and released_at is null and superseded_by is null
                  and record_key in (select {_key_sql(suite)} from __bs_rows r)""",
            [batch_id, suite.name, batch_id],
        )
    finally:
        con.unregister("__bs_rows")
    if not outcome.failures:
        return 0
    positions = sorted(outcome.failures)
    bad = _quarantine_rows(con, suite, frame.iloc[positions].reset_index(drop=True))
    bad["failed"] = [outcome.failures[p] for p in positions]
    # Rows sharing a key in one batch (duplicates) become one quarantine row.
    merged = bad.groupby("record_key", sort=False).agg(
        athlete_id=("athlete_id", "last"),
        activity_id=("activity_id", "last"),
        row_json=("row_json", "last"),
        failed=("failed", lambda s: list(dict.fromkeys(n for names in s for n in names))),
    )
    merged = merged.reset_index()
    con.register("__bs_bad", merged)
    try:
        con.execute(
            """insert or replace into quarantine
                 (table_name, record_key, athlete_id, activity_id, batch_id, failed_expectations,
                  row_json, quarantined_at, released_at, superseded_by)
               select ?, record_key, athlete_id, activity_id, ?, cast(failed as varchar[]),
                      cast(row_json as json), now(), null, null
               from __bs_bad""",
            [suite.name, batch_id],
        )
    finally:
        con.unregister("__bs_bad")
    return len(positions)


def _record_run(
    con: duckdb.DuckDBPyConnection,
    suite: str,
    batch_id: str,
    started: datetime,
    duration_s: float,
    frame: pd.DataFrame,
    quarantined: int,
    message: str | None = None,
) -> None:
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


def _validate_and_store(
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
        try:
            outcome = check_frame(con, suite, frame, batch_frames, batch_id)
        except BatchValidationError as e:
            _record_run(con, suite.name, batch_id, started, time.perf_counter() - t0, frame, 0, str(e))
            raise
    quarantined = _write_quarantine(con, suite, frame, outcome, batch_id) if len(frame) else 0
    _record_run(con, suite.name, batch_id, started, time.perf_counter() - t0, frame, quarantined)
    return frame[outcome.passed].reset_index(drop=True), outcome


# --- public interface ------------------------------------------------------------------------


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
    _engine()  # the one-off import is not part of any run's duration
    passing: dict[str, pd.DataFrame] = {}
    batch_frames: dict[str, pd.DataFrame] = {}  # view name (new_gear, held_gear, ...) -> rows
    for table in VALIDATED_TABLES:
        if table in frames:
            suite = load_suite(table, suites_dir)
            good, outcome = _validate_and_store(con, suite, frames[table], batch_frames, batch_id)
            passing[table] = batch_frames[f"new_{table}"] = good
            held = frames[table].reset_index(drop=True)[~outcome.passed] if len(outcome.passed) else None
            if held is not None:
                batch_frames[f"held_{table}"] = held
    return passing


def _open_quarantine_frame(con: duckdb.DuckDBPyConnection, table: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Open quarantined rows of a table, typed like the table; plus their quarantine ids."""
    ids = con.execute(
        """select record_key, batch_id, row_json from quarantine
           where table_name = ? and released_at is null and superseded_by is null
           order by quarantined_at, record_key""",
        [table],
    ).df()
    if ids.empty:
        return ids, ids
    present = {
        r[0]
        for r in con.execute(
            "select distinct unnest(json_keys(row_json)) from quarantine where table_name = ? "
            "and released_at is null and superseded_by is null",
            [table],
        ).fetchall()
    }
    columns = [
        (name, sql_type)
        for name, sql_type in con.execute(
            "select column_name, data_type from duckdb_columns() where table_name = ? "
            "and database_name = current_database() order by column_index",
            [table],
        ).fetchall()
        if name in present
    ]
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


def retry_quarantine(
    con: duckdb.DuckDBPyConnection,
    merge: Callable[[duckdb.DuckDBPyConnection, str, pd.DataFrame], object],
    suites_dir: Path | None = None,
) -> dict[str, int]:
    """Re-check open quarantine rows with the current suites; pass released rows to `merge(con, table, df)`
    and set released_at; returns released counts per table.

    Tables go in validation order and each table's released rows are merged before the next
    table is checked, so a released activity can release its splits in the same retry.
    """
    _engine()
    retry_id = "retry-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    released: dict[str, int] = {}
    batch_frames: dict[str, pd.DataFrame] = {}
    for table in VALIDATED_TABLES:
        frame, ids = _open_quarantine_frame(con, table)
        if frame.empty:
            continue
        suite = load_suite(table, suites_dir)
        started, t0 = datetime.now(UTC), time.perf_counter()
        try:
            outcome = check_frame(con, suite, frame, batch_frames, retry_id, whole_batch_checks=False)
        except BatchValidationError as e:
            _record_run(con, table, retry_id, started, time.perf_counter() - t0, frame, 0, str(e))
            raise
        good = frame[outcome.passed].reset_index(drop=True)
        if not good.empty:
            merge(con, table, good)
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
        _record_run(con, table, retry_id, started, time.perf_counter() - t0, frame, int((~outcome.passed).sum()))
        batch_frames[f"new_{table}"] = good
        batch_frames[f"held_{table}"] = frame[~outcome.passed]
        released[table] = len(good)
    return released


# --- report ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteRun:
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
