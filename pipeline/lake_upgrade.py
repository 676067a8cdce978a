"""The one-time move of a single-file `warehouse.duckdb` (releases before the lake) into the lake.

On the first open by a writer: the old file is brought to the last single-file schema
(`sql/native_migrations/`, the same migration runner), then every table is copied into the
lake in one transaction, columns matched by name, and the row counts are checked table by
table before it commits. The old file is then renamed `warehouse.duckdb.pre-lake` (kept
until the user deletes it) and the old read replica removed. A move cut short leaves the
old file where it was and the lake without its rows, so the next open simply moves again;
`upgrade_log` records a finished move, so a crash between the commit and the rename does
not copy twice.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import duckdb

from pipeline.config import Settings
from pipeline.migrations import NATIVE_MIGRATIONS_DIR, migrate
from pipeline.transaction import transaction

OLD = "single_file"


class UpgradeError(RuntimeError):
    """The old warehouse could not be moved; nothing was changed (the message says why)."""


def kept_path(settings: Settings) -> Path:
    return settings.warehouse_path.with_name(settings.warehouse_path.name + ".pre-lake")


def pending(settings: Settings) -> bool:
    """A single-file warehouse waits to be moved in."""
    return settings.warehouse_path.exists()


def move_single_file_warehouse(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Move `warehouse.duckdb` into the lake `con` is attached to; rows moved per table.

    The caller holds the write lock and has brought the lake to the latest schema.
    """
    source = settings.warehouse_path
    if not source.exists():
        return {}
    if _already_moved(con, source):
        _set_aside(settings)
        return {}
    _bring_to_last_single_file_version(source)
    con.execute(f"attach '{_quoted(str(source))}' as {OLD} (read_only)")
    try:
        moved = _copy_tables(con, source)
    finally:
        con.execute(f"detach {OLD}")
    _set_aside(settings)
    return moved


def _already_moved(con: duckdb.DuckDBPyConnection, source: Path) -> bool:
    row = con.execute("select count(*) from upgrade_log where source = ?", [str(source)]).fetchone()
    return bool(row and row[0])


def _bring_to_last_single_file_version(source: Path) -> None:
    try:
        old = duckdb.connect(str(source))
    except duckdb.Error as err:
        raise UpgradeError(f"cannot open the old warehouse {source} to move it into the lake: {err}") from None
    try:
        migrate(old, NATIVE_MIGRATIONS_DIR)
        old.execute("checkpoint")
    finally:
        old.close()


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[str]]:
    rows = con.execute(
        """select table_name, column_name from duckdb_columns()
           where database_name = ? and schema_name = 'main'
             and table_name in (select table_name from duckdb_tables() where database_name = ? and schema_name = 'main')
           order by table_name, column_index""",
        [database, database],
    ).fetchall()
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def _copy_tables(con: duckdb.DuckDBPyConnection, source: Path) -> dict[str, int]:
    lake_tables = _columns(con, "lake")
    old_tables = _columns(con, OLD)
    unknown = sorted(set(old_tables) - set(lake_tables) - {"schema_version"})
    if unknown:
        raise UpgradeError(f"{source} has tables this release does not know ({', '.join(unknown)}); nothing moved")
    moved: dict[str, int] = {}
    with transaction(con):
        for table, columns in sorted(old_tables.items()):
            if table == "schema_version":
                continue  # the lake has its own schema history
            shared = [c for c in columns if c in lake_tables[table]]
            names = ", ".join(f'"{c}"' for c in shared)
            before = _count(con, f'lake.main."{table}"')
            con.execute(f'insert into lake.main."{table}" ({names}) select {names} from {OLD}.main."{table}"')
            expected = _count(con, f'{OLD}.main."{table}"')
            landed = _count(con, f'lake.main."{table}"') - before
            if landed != expected:
                raise UpgradeError(f"moving {table}: {expected} rows in {source}, {landed} in the lake; nothing moved")
            moved[table] = expected
        con.execute(
            "insert into upgrade_log (source, tables_moved, rows_moved) values (?, ?, ?)",
            [str(source), len(moved), sum(moved.values())],
        )
    return moved


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    row = con.execute(f"select count(*) from {relation}").fetchone()
    return int(row[0]) if row else 0


def _set_aside(settings: Settings) -> None:
    os.replace(settings.warehouse_path, kept_path(settings))
    with contextlib.suppress(FileNotFoundError):
        settings.replica_path.unlink()
    wal = settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal")
    if wal.exists():
        os.replace(wal, kept_path(settings).with_name(kept_path(settings).name + ".wal"))


def _quoted(text: str) -> str:
    return text.replace("'", "''")
