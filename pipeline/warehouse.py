"""The warehouse's connections: writers and sandboxed readers of the DuckLake.

Every table lives in one DuckLake (`pipeline.lake`): readers see the last committed snapshot
and never block a writer, and writers in several processes commit side by side, so there is
no global write lock and no read replica. What stays serialised, and why:

- schema changes (`pipeline.migrations`) and the one-time move of a single-file warehouse
  into the lake (`pipeline.lake_upgrade`): two processes creating the same tables would
  conflict, so the first writer to find the schema behind does it under `locks/schema.lock`
  while the others wait for it;
- the steps two runs of which must not interleave take their own lock (`pipeline.step_lock`):
  a sync (two would spend the same rate limit on the same data), a digest run (exactly once
  per athlete and week), a build (each replaces the marts whole).

Two writers that touch the same rows at once get DuckLake's conflict error; `retry_conflicts`
runs such a write again on a fresh snapshot.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import duckdb

from pipeline import lake
from pipeline.config import Settings
from pipeline.files import LockBusy, file_lock
from pipeline.migrations import current_version, latest_version, migrate
from pipeline.transaction import transaction

T = TypeVar("T")

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


@contextlib.contextmanager
def schema_lock(settings: Settings, wait_s: float = 600.0) -> Iterator[None]:
    """Schema changes one process at a time; raise WarehouseBusy after `wait_s`."""
    try:
        with file_lock(settings.lock_path, wait_s, "another backstride process is upgrading the warehouse schema"):
            yield
    except LockBusy as err:
        raise WarehouseBusy(str(err)) from None


def ensure_lake(settings: Settings, con: duckdb.DuckDBPyConnection, wait_s: float = 600.0) -> None:
    """Make the lake current: move an old single-file warehouse in, apply pending migrations."""
    from pipeline import lake_upgrade  # only the first open of an old warehouse needs it

    if current_version(con) == latest_version() and not lake_upgrade.pending(settings):
        return
    with schema_lock(settings, wait_s):
        init_schema(con)  # re-read under the lock: another process may have done it meanwhile
        lake_upgrade.move_single_file_warehouse(settings, con)


@contextlib.contextmanager
def writer(settings: Settings, wait_s: float = 600.0, publish: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection to the lake at the code's schema version.

    `publish` is kept for callers of the single-file releases; the lake needs no publish step.
    """
    del publish
    settings.home.mkdir(parents=True, exist_ok=True)
    con = lake.connect(settings)
    try:
        ensure_lake(settings, con, wait_s)
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


def is_conflict(err: BaseException) -> bool:
    """DuckLake's answer when another writer committed a change this transaction also made."""
    return isinstance(err, duckdb.TransactionException) or "conflict" in str(err).lower()


def retry_conflicts(work: Callable[[], T], attempts: int = 8, pause_s: float = 0.05) -> T:
    """Run `work` (one whole transaction) again while it fails on a write-write conflict."""
    for attempt in range(attempts):
        try:
            return work()
        except duckdb.Error as err:
            if not is_conflict(err) or attempt == attempts - 1:
                raise
            time.sleep(pause_s * (2**attempt))
    raise AssertionError("unreachable")

