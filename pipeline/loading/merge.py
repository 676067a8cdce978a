"""Upserting typed rows into their tables by key, and removing what a batch replaces."""

from __future__ import annotations

import duckdb
import pandas as pd

from pipeline.sql_files import sql_query
from pipeline.table_keys import TABLE_KEYS
from pipeline.upsert import upsert

TYPED_TABLES = ["athletes", "activities", "splits", "gear", "stream_features"]
PRIMARY_KEYS: dict[str, list[str]] = {t: list(TABLE_KEYS[t]) for t in TYPED_TABLES}


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f'select column_name from (describe "{table}")').fetchall()]


def merge_frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> int:
    """Upsert rows into `table` by its key, in bulk (the frame holds each key once)."""
    if df is None or df.empty:
        return 0
    cols = [c for c in table_columns(con, table) if c in df.columns]
    # a NULL for a NOT NULL column that has a default (a column added later, a row typed
    # before it existed) takes the default instead of failing the whole merge
    defaults = dict(con.execute(sql_query("landing/not_null_defaults"), {"table_name": table}).fetchall())
    name = f"incoming_{table}"
    con.register(name, df[cols])
    try:
        values = ", ".join(f'coalesce("{c}", {defaults[c]}) as "{c}"' if c in defaults else f'"{c}"' for c in cols)
        upsert(con, table, f'(select {values} from "{name}")', cols)
    finally:
        con.unregister(name)
    return len(df)


def drop_rejected(con: duckdb.DuckDBPyConnection, table: str, incoming: pd.DataFrame, ok: pd.DataFrame | None) -> None:
    """A newer version that failed validation replaces the old row: remove the old one."""
    keys = PRIMARY_KEYS[table]
    rejected = incoming if ok is None or ok.empty else incoming.merge(ok[keys], on=keys, how="left", indicator=True)
    if ok is not None and not ok.empty:
        rejected = rejected[rejected["_merge"] == "left_only"]
    if rejected.empty:
        return
    con.register("rejected_keys", rejected[keys])
    try:
        cond = " and ".join(f't."{k}" = r."{k}"' for k in keys)
        con.execute(f'delete from "{table}" t where exists (select 1 from rejected_keys r where {cond})')
    finally:
        con.unregister("rejected_keys")


def clear_splits(con: duckdb.DuckDBPyConnection, incoming: pd.DataFrame) -> None:
    """An activity's splits are replaced as a whole when its detail is re-fetched."""
    ids = pd.DataFrame({"activity_id": incoming["activity_id"].unique()})
    con.register("split_ids", ids)
    try:
        con.execute("delete from splits where activity_id in (select activity_id from split_ids)")
    finally:
        con.unregister("split_ids")
