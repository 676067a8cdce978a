"""The warehouse's connections: writers and sandboxed readers of the DuckLake.

Every table lives in one DuckLake (`pipeline.lake`): readers see the last committed snapshot
and never wait for a writer (the catalog runs in SQLite's WAL mode), so there is no read
replica and no publish step: `backstride sql`, a DuckDB shell or pandas read while a sync,
a build or a digest writes.

What stays serialised, and why:

- write transactions, by `locks/write.lock` held for a `writer()` block. With the embedded
  SQLite catalog, a DuckLake write transaction holds a SQLite read snapshot from its first
  statement; if another writer commits meanwhile, its own commit can no longer upgrade to a
  write and fails with "database is locked" whatever the busy timeout and DuckLake's retries
  (duckdb/ducklake#1309; reproduced here with two connections in one process). A PostgreSQL
  catalog has no such limit and runs writers side by side, DuckLake retrying on conflicts.
  Writers keep their blocks short (one athlete's batch, one build's commit), so a webhook
  event, a sync and a build interleave instead of queuing behind each other's whole run;
- schema changes and the one-time move of a single-file warehouse into the lake
  (`pipeline.lake_upgrade`), done by the first writer that finds the schema behind;
- steps two runs of which must not interleave take their own lock (`pipeline.step_lock`):
  a sync (two would spend the same rate limit on the same data), a digest run (exactly once
  per athlete and week), a build (each replaces the marts whole).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import duckdb

from pipeline import lake
from pipeline.config import Settings
from pipeline.files import LockBusy, file_lock
from pipeline.migrations import current_version, latest_version, migrate
from pipeline.transaction import transaction

# The tables ingestion writes (their DDL is in sql/migrations). Every table holding personal
# data has `athlete_id`, so that `delete_athlete_rows` can remove an athlete everywhere.
INGEST_TABLES: tuple[str, ...] = (
    "landing",
    "athletes",
    "activities",
    "splits",
    "gear",
    "stream_features",
    "sync_state",
    "fetch_queue",
    "deleted_activities",
    "ingest_log",
    "quarantine",
    "validation_runs",
    "digest_log",
)


class WarehouseBusy(LockBusy):
    """Another process holds a lock this step needs (or kept conflicting with this write)."""


class SnapshotMissing(FileNotFoundError):
    """`--snapshot N` names a snapshot the lake does not hold."""


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Bring the warehouse to the code's schema version (pipeline.migrations; cheap when it is)."""
    migrate(con)


def tables_with_athlete_id(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table that has an `athlete_id` column."""
    rows = con.execute(
        """select table_name from duckdb_columns()
           where column_name = 'athlete_id' and database_name = current_database()
             and table_name in (select table_name from duckdb_tables() where database_name = current_database())
           order by table_name"""
    ).fetchall()
    return [r[0] for r in rows]


def delete_athlete_rows(con: duckdb.DuckDBPyConnection, athlete_id: int) -> dict[str, int]:
    """Delete every row of an athlete from every table; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    with transaction(con):
        for table in tables_with_athlete_id(con):
            n = con.execute(f'delete from "{table}" where athlete_id = ?', [athlete_id]).fetchall()[0]
            deleted[table] = int(n[0]) if n else 0
    return deleted


_held = threading.local()  # write-lock depth of this thread: a writer inside a writer reuses the lock


@contextlib.contextmanager
def write_lock(settings: Settings, wait_s: float = 600.0) -> Iterator[None]:
    """One write transaction at a time on this lake (see the module notes); re-entrant in a thread."""
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth = depth
        return
    try:
        with file_lock(settings.lock_path, wait_s, "another backstride process kept the warehouse busy", poll_s=0.01):
            _held.depth = 1
            try:
                yield
            finally:
                _held.depth = 0
    except LockBusy as err:
        raise WarehouseBusy(str(err)) from None


def ensure_lake(settings: Settings, con: duckdb.DuckDBPyConnection) -> None:
    """Make the lake current: move an old single-file warehouse in, apply pending migrations."""
    from pipeline import lake_upgrade  # only the first open of an old warehouse needs it

    if current_version(con) == latest_version() and not lake_upgrade.pending(settings):
        return
    init_schema(con)
    lake_upgrade.move_single_file_warehouse(settings, con)


@contextlib.contextmanager
def writer(settings: Settings, wait_s: float = 600.0, publish: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection to the lake at the code's schema version, holding the write lock.

    `publish` is kept for callers of the single-file releases; the lake needs no publish step.
    """
    del publish
    settings.home.mkdir(parents=True, exist_ok=True)
    with write_lock(settings, wait_s):
        con = lake.connect(settings)
        try:
            ensure_lake(settings, con)
            yield con
        finally:
            con.close()


def connect_reader(settings: Settings, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only, sandboxed connection to the lake's last committed snapshot (or `snapshot`).

    External access (files outside the lake, network, extensions) is disabled and the
    configuration locked, so ad-hoc SQL cannot write or escape.
    """
    from pipeline import lake_upgrade

    if lake_upgrade.pending(settings):  # an old warehouse not moved yet: a writer's first open moves it
        with writer(settings):
            pass
    if not lake.catalog_exists(settings):
        raise FileNotFoundError(
            f"no warehouse at {settings.catalog_path}: run `backstride sync` (or `backstride demo`) first"
        )
    try:
        con = lake.connect(settings, read_only=True, snapshot=snapshot)
    except duckdb.Error as err:
        if snapshot is not None:
            raise SnapshotMissing(
                f"snapshot {snapshot} is not in the warehouse (expired by `backstride maintain`, or not made yet): "
                f"{str(err).splitlines()[0]}"
            ) from None
        raise
    lake.sandbox(con, settings)
    return con
