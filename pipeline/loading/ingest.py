"""Ingesting landed batches: derive, validate and merge every batch not ingested yet, in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from pipeline.loading.derive import derive_frames
from pipeline.loading.merge import TYPED_TABLES, clear_splits, drop_rejected, merge_frame
from pipeline.loading.problems import landing_problems, quarantine_problems
from pipeline.sql_files import sql_query
from pipeline.transaction import transaction
from pipeline.upsert import insert_missing_rows

Validator = Callable[[duckdb.DuckDBPyConnection, dict[str, pd.DataFrame], str], dict[str, pd.DataFrame]]


@dataclass
class IngestReport:
    batches: int = 0
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_merged: dict[str, int] = field(default_factory=dict)
    released: int = 0  # quarantined rows released by a re-check
    landing_problems: int = 0  # elements that could not become rows, quarantined with a reason

    @property
    def quarantined(self) -> int:
        return sum(self.rows_in.values()) - sum(self.rows_merged.values())


def pending_batches(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    """(batch_id, athlete_id) of every landing batch not ingested yet, in order of arrival."""
    return con.execute(sql_query("landing/pending_batches")).fetchall()


def _default_validator() -> Validator:
    from pipeline.validation import validate_frames

    return validate_frames


def _merge_table(
    con: duckdb.DuckDBPyConnection, table: str, incoming: pd.DataFrame | None, ok: pd.DataFrame | None
) -> int:
    """Replace what the batch replaces in `table` and upsert the rows that passed."""
    if incoming is not None and not incoming.empty:
        drop_rejected(con, table, incoming, ok)
        if table == "splits":
            clear_splits(con, incoming)
    return merge_frame(con, table, ok) if ok is not None else 0


def ingest_pending(con: duckdb.DuckDBPyConnection, validate: Validator | None = None) -> IngestReport:
    """Derive, validate and merge every landing batch not ingested yet (idempotent)."""
    report = IngestReport()
    batches = pending_batches(con)
    if not batches:
        return report
    validate = validate or _default_validator()
    batch_ids = [b for b, _ in batches]
    frames = derive_frames(con, batch_ids)
    problems = landing_problems(con)
    label = batch_ids[0] if len(batch_ids) == 1 else f"{batch_ids[0]}+{len(batch_ids) - 1}"
    passed = validate(con, frames, label)
    with transaction(con):
        report.landing_problems = quarantine_problems(con, problems, label)
        for table in TYPED_TABLES:
            incoming = frames.get(table)
            report.rows_in[table] = 0 if incoming is None else len(incoming)
            report.rows_merged[table] = _merge_table(con, table, incoming, passed.get(table))
        insert_missing_rows(con, "ingest_log", ("batch_id", "athlete_id"), [tuple(b) for b in batches])
    report.batches = len(batches)
    return report


def rebuild_all(con: duckdb.DuckDBPyConnection, validate: Validator | None = None) -> IngestReport:
    """Forget what was ingested and derive every typed table again from landing."""
    for table in TYPED_TABLES:
        if table != "athletes":
            con.execute(f'delete from "{table}"')
    con.execute("delete from ingest_log")
    return ingest_pending(con, validate)
