"""Opening the test warehouse's lake the way a user's DuckDB session would."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline import lake
from pipeline.config import Settings


def open_lake(where: Settings | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection with the lake at `where` (settings, or a BACKSTRIDE_HOME folder) attached and in use."""
    settings = where if isinstance(where, Settings) else Settings(home=Path(where))
    return lake.connect(settings, read_only=read_only)
