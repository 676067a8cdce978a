"""Helpers of the warehouse tests: a snapshot of everything a migration must keep, and the release fixture."""

from __future__ import annotations

from pathlib import Path

import duckdb

RELEASE_0_1 = Path(__file__).resolve().parent.parent / "fixtures" / "warehouse_release_0_1"


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Every table's columns and rows (sorted), plus the schema_version rows: what must not change."""
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by table_name"
        ).fetchall()
    ]
    shot: dict[str, object] = {}
    for table in tables:
        columns = con.execute(
            "select column_name, data_type, column_default, is_nullable from duckdb_columns() "
            "where table_name = ? order by column_index",
            [table],
        ).fetchall()
        rows = con.execute(f'select * from "{table}" order by all').fetchall()
        shot[table] = (columns, rows)
    return shot


def import_release_0_1(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse file holding what release 0.1 wrote (tests/fixtures/warehouse_release_0_1)."""
    con = duckdb.connect(str(path))
    con.execute(f"import database '{RELEASE_0_1}'")
    return con
