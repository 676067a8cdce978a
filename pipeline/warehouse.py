"""The DuckDB warehouse's connections: the single-writer lock, write and read paths.

DuckDB allows one writing process per file, and while it writes no other process can
open the file at all. So every writer takes `warehouse.lock` (an flock) first, keeps its
connection short, and on close publishes a read-only replica (`warehouse.read.duckdb`)
that ad-hoc readers fall back to while a writer is busy. Each writer first brings the
schema to the code's version (`pipeline.migrations`, which owns the DDL).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipeline import files
from pipeline.config import Settings
from pipeline.files import LockBusy
from pipeline.migrations import migrate
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
    """Another process holds the warehouse write lock (or the file itself)."""


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
def write_lock(settings: Settings, wait_s: float = 600.0) -> Iterator[None]:
    """Serialise writers across processes; raise WarehouseBusy after `wait_s`."""
    with file_lock(
        settings.lock_path,
        wait_s,
        f"another backstride process is writing to {settings.warehouse_path}; try again when it finishes",
    ):
        yield


@contextlib.contextmanager
def file_lock(path: Path, wait_s: float, busy_message: str) -> Iterator[None]:
    """`pipeline.files.file_lock`, raising WarehouseBusy after `wait_s` (released if the process dies)."""
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(files.file_lock(path, wait_s, busy_message))
        except LockBusy as err:
            raise WarehouseBusy(str(err)) from None
        yield


@contextlib.contextmanager
def writer(settings: Settings, wait_s: float = 600.0, publish: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived write connection under the lock; publishes the read replica on success."""
    with write_lock(settings, wait_s=wait_s):
        settings.home.mkdir(parents=True, exist_ok=True)
        con = connect_writer(settings)
        ok = False
        try:
            init_schema(con)
            yield con
            ok = True
        finally:
            if ok:
                con.execute("checkpoint")
            con.close()
        if ok and publish:
            publish_replica(settings)


def publish_replica(settings: Settings) -> None:
    """Copy the closed warehouse to the replica path atomically (caller holds the lock)."""
    if not settings.warehouse_path.exists():
        return
    tmp = settings.replica_path.with_suffix(".tmp")
    shutil.copyfile(settings.warehouse_path, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, settings.replica_path)


def connect_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published replica (the warehouse itself if none yet).

    Readers never open the warehouse file while a replica exists: a DuckDB reader holds a
    shared lock that would block the pipeline's writer. External access (files, network,
    extensions) is disabled and the configuration locked, so ad-hoc SQL cannot write or escape.
    """
    config = {"enable_external_access": "false", "lock_configuration": "true"}
    last_error: Exception | None = None
    for attempt in range(10):
        path = settings.replica_path if settings.replica_path.exists() else settings.warehouse_path
        if not path.exists():
            break
        try:
            return duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.IOException as err:  # the warehouse itself, locked by a writer
            last_error = err
            time.sleep(0.1 * (attempt + 1))
    if last_error is None:
        raise FileNotFoundError(
            f"no warehouse at {settings.warehouse_path}: run `backstride sync` (or `backstride demo`) first"
        )
    raise WarehouseBusy(f"the warehouse is busy and no replica is available yet: {last_error}")


def connect_writer(settings: Settings, wait_s: float = 60.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, waiting for outside readers that hold it (they are short)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(settings.warehouse_path))
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                raise WarehouseBusy(f"cannot open {settings.warehouse_path} for writing: {err}") from None
            time.sleep(0.1)


def compact(settings: Settings) -> None:
    """Rewrite the warehouse so deleted rows leave no bytes behind, then republish the replica.

    DuckDB marks deleted rows and keeps them in its storage blocks until those are rewritten,
    so after an athlete is removed their email and names could still be read from the file.
    `COPY FROM DATABASE` writes only live rows (schema, views, sequences too) into a new file,
    which replaces the old one under the write lock.
    """
    source = settings.warehouse_path
    if not source.exists():
        return
    target = source.with_name(source.name + ".compact")
    with write_lock(settings):
        target.unlink(missing_ok=True)
        con = connect_writer(settings)
        try:
            con.execute("checkpoint")
            name = con.execute("select current_database()").fetchall()[0][0]
            con.execute(f"attach '{target}' as compacted")
            con.execute(f'copy from database "{name}" to compacted')
            con.execute("detach compacted")
        finally:
            con.close()
        os.chmod(target, source.stat().st_mode & 0o777)
        os.replace(target, source)
        files.fsync_directory(source.parent)
        publish_replica(settings)
