"""Opening the test warehouse's lake the way a user's DuckDB session would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb

from pipeline import lake
from pipeline.config import Settings


def open_lake(where: Settings | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with the lake at `where` (settings, or a BACKSTRIDE_HOME folder) attached and in use."""
    settings = where if isinstance(where, Settings) else Settings(home=Path(where))
    return lake.connect(settings, read_only=read_only)


def raw_traces(settings: Settings, athlete_id: int | None, email: str) -> list[str]:
    """Where the athlete still is, read below DuckLake: every Parquet file and the catalog itself.

    Each data file (and delete file) is read directly: a row with their athlete_id (if given) or any value
    holding `email` (any text). The SQLite catalog is searched byte for byte (inlined rows, old
    snapshots' rows and freed pages alike), and its inlined-data tables row by row.
    """
    found: list[str] = []
    con = duckdb.connect()
    for path in sorted(settings.data_path.rglob("*.parquet")):
        columns = [r[0] for r in con.execute("select name from parquet_schema(?)", [str(path)]).fetchall()]
        if athlete_id is not None and "athlete_id" in columns:
            n = con.execute("select count(*) from read_parquet(?) where athlete_id = ?", [str(path), athlete_id])
            if n.fetchone()[0]:
                found.append(f"{path.name}: rows with athlete_id {athlete_id}")
        hit = con.execute(
            "select count(*) from read_parquet(?) t where contains(t::varchar, ?)", [str(path), email]
        ).fetchone()[0]
        if hit:
            found.append(f"{path.name}: {email}")
    con.close()
    if email.encode() in settings.catalog_path.read_bytes():
        found.append(f"{settings.catalog_path.name}: {email} (bytes)")
    catalog = sqlite3.connect(settings.catalog_path)
    try:
        inlined = [r[0] for r in catalog.execute("select name from sqlite_master where name like 'ducklake_inlined%'")]
        for table in inlined:
            cols = [r[1] for r in catalog.execute(f'pragma table_info("{table}")')]
            if athlete_id is not None and "athlete_id" in cols:
                n = catalog.execute(f'select count(*) from "{table}" where athlete_id = ?', [athlete_id]).fetchone()[0]
                if n:
                    found.append(f"{table}: rows with athlete_id {athlete_id}")
    finally:
        catalog.close()
    return found
