"""The `build_log` table: one row written per build, read back as "last build" by `backstride status`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import duckdb

from pipeline.ids import ordered_ids


@dataclass(frozen=True)
class BuildRecord:
    """One build as `build_log` holds it."""

    build_id: int
    started_at: datetime.datetime
    finished_at: datetime.datetime
    as_of: datetime.date
    models: int
    batches_ingested: int
    full_rebuild: bool


def record_build(
    con: duckdb.DuckDBPyConnection,
    started_at: datetime.datetime,
    as_of: datetime.date,
    models: int,
    batches_ingested: int = 0,
    full_rebuild: bool = True,
    finished_at: datetime.datetime | None = None,
) -> int:
    """Append one build (finished now unless told); returns its `build_id`."""
    build_id = ordered_ids(1)[0]
    con.execute(
        """insert into build_log (build_id, started_at, finished_at, as_of, models, batches_ingested, full_rebuild)
           values (?, ?, coalesce(?, now()), ?, ?, ?, ?)""",
        [build_id, started_at, finished_at, as_of, models, batches_ingested, full_rebuild],
    )
    return build_id


def last_build(con: duckdb.DuckDBPyConnection) -> BuildRecord | None:
    """The most recently finished build, or None if there was none (or no `build_log` yet)."""
    present = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() and table_name = 'build_log'"
    ).fetchone()
    if not present or not present[0]:
        return None
    row = con.execute(
        """select build_id, started_at, finished_at, as_of, models, batches_ingested, full_rebuild
           from build_log order by finished_at desc, build_id desc limit 1"""
    ).fetchone()
    return BuildRecord(*row) if row else None
