"""Writing rows by key without primary keys: DuckLake has none (`pipeline.table_keys`).

`upsert` replaces the row with the same key or adds it (`MERGE INTO ... ON key`);
`insert_missing` adds only rows whose key is not there yet (what `insert or ignore` did).
Both take a source relation (a registered frame, a table or a `(select ...)`) or rows.
The source must hold each key once; callers deduplicate (a MERGE refuses to update a row twice).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb

from pipeline.table_keys import key_of


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _on(key: Sequence[str]) -> str:
    return " and ".join(f"t.{_q(k)} = s.{_q(k)}" for k in key)


def upsert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    columns: Sequence[str],
    params: Sequence[Any] | dict[str, Any] | None = None,
    key: Sequence[str] | None = None,
) -> None:
    """Replace (by key) or add each row of `source` into `table`, setting `columns`."""
    key = tuple(key or key_of(table))
    cols = ", ".join(_q(c) for c in columns)
    vals = ", ".join(f"s.{_q(c)}" for c in columns)
    sets = ", ".join(f"{_q(c)} = s.{_q(c)}" for c in columns if c not in key)
    matched = f"when matched then update set {sets} " if sets else ""
    con.execute(
        f"merge into {_q(table)} as t using {source} as s on ({_on(key)}) "
        f"{matched}when not matched then insert ({cols}) values ({vals})",
        params,
    )


def insert_missing(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source: str,
    columns: Sequence[str],
    params: Sequence[Any] | dict[str, Any] | None = None,
    key: Sequence[str] | None = None,
) -> None:
    """Add the rows of `source` whose key `table` does not hold yet; leave the others as they are."""
    key = tuple(key or key_of(table))
    cols = ", ".join(_q(c) for c in columns)
    vals = ", ".join(f"s.{_q(c)}" for c in columns)
    con.execute(
        f"merge into {_q(table)} as t using {source} as s on ({_on(key)}) "
        f"when not matched then insert ({cols}) values ({vals})",
        params,
    )


def values_source(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> tuple[str, list[Any]]:
    """`(select * from (values (?, ...), ...) v(columns))` and its flat parameters, for a few rows.

    Later rows with a key already seen win, as with one statement per row.
    """
    width = len(columns)
    placeholders = ", ".join("(" + ", ".join("?" * width) + ")" for _ in rows)
    names = ", ".join(_q(c) for c in columns)
    flat = [value for row in rows for value in row]
    return f"(select * from (values {placeholders}) v({names}))", flat


def upsert_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """`upsert` of literal rows (the last row of each key wins)."""
    rows = _last_per_key(table, columns, rows)
    if rows:
        source, params = values_source(columns, rows)
        upsert(con, table, source, columns, params)


def insert_missing_rows(
    con: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """`insert_missing` of literal rows (the first row of each key counts)."""
    rows = _first_per_key(table, columns, rows)
    if rows:
        source, params = values_source(columns, rows)
        insert_missing(con, table, source, columns, params)


def _key_index(table: str, columns: Sequence[str]) -> list[int]:
    return [list(columns).index(k) for k in key_of(table)]


def _last_per_key(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    index = _key_index(table, columns)
    kept: dict[tuple[Any, ...], Sequence[Any]] = {}
    for row in rows:
        kept[tuple(row[i] for i in index)] = row
    return list(kept.values())


def _first_per_key(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    index = _key_index(table, columns)
    kept: dict[tuple[Any, ...], Sequence[Any]] = {}
    for row in rows:
        kept.setdefault(tuple(row[i] for i in index), row)
    return list(kept.values())
