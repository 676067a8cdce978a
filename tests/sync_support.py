"""Helpers shared by the ingestion tests."""

from __future__ import annotations

import duckdb

from pipeline.config import Settings

TYPED = ("activities", "splits", "gear", "stream_features", "athletes")


def snapshot(settings: Settings, tables: tuple[str, ...] = TYPED) -> dict[str, list[tuple]]:
    """Every row of the typed tables, without load timestamps, in a stable order."""
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        out = {}
        for table in tables:
            cols = [
                c
                for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()
                if c not in ("loaded_at", "landing_id", "batch_id", "registered_at", "profile_updated_at")
            ]
            out[table] = con.execute(f"select {', '.join(cols)} from {table} order by all").fetchall()
        return out
    finally:
        con.close()


def count(settings: Settings, sql: str) -> int:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return int(con.execute(sql).fetchall()[0][0])
    finally:
        con.close()
