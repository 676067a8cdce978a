"""Connections to the DuckLake that holds every backstride table.

A DuckLake is a catalog database (embedded default: SQLite at `$BACKSTRIDE_HOME/catalog.sqlite`)
plus Parquet data files (default `$BACKSTRIDE_HOME/lake/`). Each connection is an in-memory
DuckDB that loads the `ducklake` and `sqlite_scanner` extensions from their installed wheels
(never from the network), attaches the lake as `lake` and makes it the default database, so
every query names tables as before (`activities`, not `lake.activities`).

Snapshot isolation comes from the engine: readers see the last committed snapshot and never
block a writer. With the embedded SQLite catalog two write transactions must not overlap
(`pipeline.warehouse.writer` says why and serialises them); readers need no lock at all.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import duckdb

from pipeline.config import Settings

LAKE = "lake"
EXTENSIONS = ("ducklake", "sqlite_scanner")
BUSY_TIMEOUT_MS = 10_000


class LakeMissing(FileNotFoundError):
    """No lake yet at the configured catalog."""


@functools.cache
def extension_path(name: str) -> Path:
    """The `.duckdb_extension` file shipped in the `duckdb-extension-<name>` wheel."""
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"the DuckDB extension {name!r} is not installed (package duckdb-extension-{name.replace('_', '-')}); "
            "run `make setup`"
        )
    found = sorted(Path(spec.origin).parent.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"no {name} extension for duckdb {duckdb.__version__} in {Path(spec.origin).parent}")
    return found[0]


def catalog_exists(settings: Settings) -> bool:
    return settings.catalog_path.exists()


def attach_sql(settings: Settings, read_only: bool = False, alias: str = LAKE, snapshot: int | None = None) -> str:
    """The ATTACH statement for this lake (also what `docs/sql.md` shows for a DuckDB shell)."""
    # The catalog remembers the data path it was made with; a moved BACKSTRIDE_HOME (or a new
    # BACKSTRIDE_DATA_PATH holding the same files) must still open, so the configured one wins.
    options = [f"data_path '{_quoted(str(settings.data_path) + '/')}'", "override_data_path true"]
    # SQLite's write-ahead log lets readers read while a writer commits (with the default
    # rollback journal a reader's shared lock stalls the commit); the mode is stored in the
    # catalog file, so the writers set it and readers inherit it. A busy catalog is waited for.
    options.append(f"meta_busy_timeout {BUSY_TIMEOUT_MS}")
    if read_only:
        options.append("read_only")
    else:
        options.append("meta_journal_mode 'WAL'")
    if snapshot is not None:
        options.append(f"snapshot_version {int(snapshot)}")
    return f"attach 'ducklake:sqlite:{_quoted(str(settings.catalog_path))}' as {alias} ({', '.join(options)})"


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _base_connection() -> duckdb.DuckDBPyConnection:
    # Extensions come from the wheels only: never download one, never load one by name from ~/.duckdb.
    # The wheels' files were checked against the lock file's sha256 when uv installed them, so
    # the signature check DuckDB would repeat on every LOAD (0.18 s of hashing 70 MB per
    # connection here) is skipped; only the two paths above are ever loaded, and a sandboxed
    # reader cannot LOAD anything (external access off, configuration locked).
    con = duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": "false", "allow_unsigned_extensions": "true"}
    )
    for name in EXTENSIONS:
        con.execute(f"load '{_quoted(str(extension_path(name)))}'")
    return con


def connect(settings: Settings, read_only: bool = False, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
    """A connection with the lake attached as the default database (at `snapshot`, read-only, if given).

    Writers create the catalog and data folder on first use; readers raise LakeMissing instead.
    """
    if read_only and not catalog_exists(settings):
        raise LakeMissing(
            f"no warehouse at {settings.catalog_path}: run `backstride sync` (or `backstride demo`) first"
        )
    if not read_only:
        settings.catalog_path.parent.mkdir(parents=True, exist_ok=True)
        settings.data_path.mkdir(parents=True, exist_ok=True)
    con = _base_connection()
    try:
        con.execute(attach_sql(settings, read_only=read_only or snapshot is not None, snapshot=snapshot))
        con.execute(f"use {LAKE}")
    except BaseException:
        con.close()
        raise
    return con


def sandbox(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Lock a read-only connection down: only the lake's own files, no configuration changes.

    With external access off nothing outside `allowed_directories` can be read or written
    (no `read_text('/etc/passwd')`, no COPY, no ATTACH of another file, no INSTALL), and with
    the configuration locked no query can undo that.
    """
    allowed = [str(settings.data_path) + "/", str(settings.catalog_path)]
    con.execute("set allowed_directories = ?", [allowed])
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")


def snapshot_id(con: duckdb.DuckDBPyConnection) -> int | None:
    """The newest committed snapshot of the lake as this connection sees it."""
    row = con.execute(f"select max(snapshot_id) from ducklake_snapshots('{LAKE}')").fetchone()
    return int(row[0]) if row and row[0] is not None else None
