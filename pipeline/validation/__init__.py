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

One module per job:

- `suite_files`: reading a suite file into checked models (errors name the file and field);
  `named_sets`: the lists a suite refers to by name (`$run_sport_types`), from the seeds
- `engine`: the lazy Great Expectations import and its one context per process;
  `suites`: the GX expectation suites built from a suite file, and running them
- `check`: one table's frame judged level by level; `derived`: the derived columns
- `store`: the `quarantine` and `validation_runs` tables; `validate`: a whole batch;
  `retry`: re-checking quarantine; `report`: the report and the email's data-quality note

Great Expectations takes about 14 s to import: it is imported lazily, once, with one ephemeral
context per process, and each suite's expectation objects are built once per suite text.
Importing this package does not import it.
"""

from __future__ import annotations

from pipeline.validation.check import FrameOutcome, check_frame
from pipeline.validation.engine import engine as _engine  # bench/bench_validation.py warms GX with it
from pipeline.validation.errors import BatchValidationError
from pipeline.validation.named_sets import NAMED_SETS
from pipeline.validation.report import OpenQuarantine, SuiteRun, ValidationReport, quality_note, validation_report
from pipeline.validation.retry import retry_quarantine
from pipeline.validation.suite_files import DEFAULT_SUITES_DIR, LEVELS, VALIDATED_TABLES, Check, Suite, load_suite
from pipeline.validation.validate import validate_frames

__all__ = [
    "DEFAULT_SUITES_DIR",
    "LEVELS",
    "NAMED_SETS",
    "VALIDATED_TABLES",
    "BatchValidationError",
    "Check",
    "FrameOutcome",
    "OpenQuarantine",
    "Suite",
    "SuiteRun",
    "ValidationReport",
    "_engine",
    "check_frame",
    "load_suite",
    "quality_note",
    "retry_quarantine",
    "validate_frames",
    "validation_report",
]
