"""The warehouse schema's one owner: numbered SQL files applied in order, each once.

The lake's schema is `sql/migrations/`. `sql/native_migrations/` is the schema history of
the single-file `warehouse.duckdb` of earlier releases: an old file is brought to its last
version with it (same runner) just before it moves into the lake (`pipeline.lake_upgrade`).

`sql/migrations/NNN_name.sql` files are applied in version order, each in its own
transaction together with its row in `schema_version` (version, name, checksum, applied_at),
so a failing file leaves the warehouse at the previous version. A warehouse made before
migrations existed (release 0.1: tables, no `schema_version`) is adopted at version 1: the
baseline file creates what it lacks (`create ... if not exists`) and any column of the
baseline it is missing is added. An applied file whose text changed since (checksum
mismatch) and a warehouse newer than the code are errors: both mean the code and the file
disagree about the schema, and guessing could lose data.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipeline.transaction import transaction

REPO_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = REPO_ROOT / "sql" / "migrations"
NATIVE_MIGRATIONS_DIR = REPO_ROOT / "sql" / "native_migrations"
_FILE_NAME = re.compile(r"(\d{3})_([a-z0-9_]+)\.sql")

VERSION_DDL = """
    create table if not exists schema_version (
        version    integer not null,  -- the key (pipeline.table_keys)
        name       varchar not null,      -- the file name, e.g. 001_baseline.sql
        checksum   varchar not null,      -- sha256 of the file as applied
        applied_at timestamptz not null default now()
    )"""


class MigrationError(RuntimeError):
    """The schema could not be brought to the code's version; the message names the file."""


@dataclass(frozen=True)
class Migration:
    """One numbered SQL file."""

    version: int
    name: str
    path: Path
    sql: str
    checksum: str

    @property
    def label(self) -> str:
        """The file as a reader finds it: `sql/migrations/002_build_log.sql`."""
        try:
            return str(self.path.relative_to(REPO_ROOT))
        except ValueError:
            return str(self.path)


def discover(directory: Path | None = None) -> list[Migration]:
    """Every migration file of `directory`, by version; versions must run 1, 2, 3... without gaps."""
    directory = directory or MIGRATIONS_DIR
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.fullmatch(path.name)
        if not match:
            raise MigrationError(f"{path}: a migration file is named NNN_name.sql (lower case)")
        data = path.read_bytes()
        found.append(Migration(int(match[1]), path.name, path, data.decode(), hashlib.sha256(data).hexdigest()))
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"{directory}: migration versions must be 1, 2, 3... without gaps or repeats: {versions}")
    return found


def latest_version(directory: Path | None = None) -> int:
    """The version a warehouse has once every migration the code knows is applied."""
    return len(discover(directory))


def applied_versions(con: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of what the warehouse has applied; empty before any."""
    if not _has_table(con, "schema_version"):
        return {}
    rows = con.execute("select version, name, checksum from schema_version order by version").fetchall()
    return {int(v): (n, c) for v, n, c in rows}


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's schema version (0: none applied yet)."""
    return max(applied_versions(con), default=0)


def migrate(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> list[int]:
    """Apply every pending migration in order; returns the versions applied (none: already latest)."""
    migrations = discover(directory)
    applied = applied_versions(con)
    _check_applied(applied, migrations)
    done: list[int] = []
    adopt = (directory or MIGRATIONS_DIR).resolve() == NATIVE_MIGRATIONS_DIR
    for migration in migrations[max(applied, default=0) :]:
        _apply(con, migration, adopt_unversioned=adopt)
        done.append(migration.version)
    return done


def _check_applied(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> None:
    """Refuse a warehouse newer than the code, or one whose applied files have since changed."""
    newest = max(applied, default=0)
    if newest > len(migrations):
        raise MigrationError(
            f"the warehouse is at schema version {newest}, made by a newer backstride "
            f"(this one knows up to {len(migrations)}); upgrade backstride to open it"
        )
    for migration in migrations[:newest]:
        name, checksum = applied.get(migration.version, ("", ""))
        if checksum != migration.checksum:
            raise MigrationError(
                f"{migration.label} changed after it was applied to this warehouse (as {name or 'nothing'}, "
                f"checksum {checksum[:12] or '-'} != {migration.checksum[:12]}); restore the file "
                "and put the change in a new migration"
            )


def _apply(con: duckdb.DuckDBPyConnection, migration: Migration, adopt_unversioned: bool = False) -> None:
    """Run one file and record it, in one transaction (a failure rolls both back)."""
    try:
        if migration.version == 1 and adopt_unversioned:
            # Each added column commits on its own: DuckDB cannot add a NOT NULL constraint to a
            # column added earlier in the same transaction. Additive and checked, so a run cut
            # short is completed by the next one.
            _complete_baseline(con, migration)
        with transaction(con):
            con.execute(VERSION_DDL)
            con.execute(migration.sql)
            con.execute(
                "insert into schema_version (version, name, checksum) values (?, ?, ?)",
                [migration.version, migration.name, migration.checksum],
            )
    except duckdb.Error as err:
        raise MigrationError(f"{migration.label} failed: {err}") from err


def _complete_baseline(con: duckdb.DuckDBPyConnection, baseline: Migration) -> None:
    """Add the baseline's columns an older warehouse lacks; refuse a column of another type.

    Only a warehouse made before migrations can lack one: `create table if not exists` left
    its tables as they were. What the baseline means is read from the file itself, applied
    to an empty in-memory database, so there is no second copy of the schema to keep in step.
    """
    scratch = duckdb.connect(":memory:")
    try:
        scratch.execute(baseline.sql)
        expected = _columns(scratch)
    finally:
        scratch.close()
    present = _columns(con)
    tables = {table for table, _ in present}
    for (table, column), (sql_type, default, nullable) in expected.items():
        found = present.get((table, column))
        if table not in tables:
            continue  # created whole by the baseline itself
        if found is None:
            _add_column(con, table, column, sql_type, default, nullable)
        elif found[0] != sql_type:
            raise MigrationError(
                f"{baseline.label}: the existing warehouse's {table}.{column} is {found[0]}, expected {sql_type}"
            )


def _add_column(
    con: duckdb.DuckDBPyConnection, table: str, column: str, sql_type: str, default: str | None, nullable: bool
) -> None:
    clause = f" default {default}" if default is not None else ""
    con.execute(f'alter table "{table}" add column "{column}" {sql_type}{clause}')
    if not nullable:
        con.execute(f'alter table "{table}" alter column "{column}" set not null')


def _columns(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, str | None, bool]]:
    """(table, column) -> (type, default expression, nullable) of every base table in `main`."""
    rows = con.execute(
        """select table_name, column_name, data_type, column_default, is_nullable from duckdb_columns()
           where database_name = current_database() and schema_name = 'main'
             and table_name in (select table_name from duckdb_tables()
                                where database_name = current_database() and schema_name = 'main')"""
    ).fetchall()
    return {(t, c): (typ, default, bool(nullable)) for t, c, typ, default, nullable in rows}


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        """select count(*) from duckdb_tables()
           where database_name = current_database() and schema_name = 'main' and table_name = ?""",
        [name],
    ).fetchone()
    return bool(row and row[0])
