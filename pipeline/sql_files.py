"""The loader's SQL, read by name from the .sql files under `sql/` (linted by sqlfluff like the models).

Queries take DuckDB named parameters (`$batch_label`), passed as a dict to `con.execute`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def sql_query(name: str) -> str:
    """The text of `sql/<name>.sql` (e.g. 'derive/activities'), read once per process."""
    path = SQL_DIR / f"{name}.sql"
    try:
        return path.read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"no SQL file {path} for query {name!r}") from None
