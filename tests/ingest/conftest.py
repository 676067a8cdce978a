"""Fixtures for the ingestion tests: a real DuckDB warehouse file with the schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.warehouse import init_schema


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    init_schema(connection)
    yield connection
    connection.close()
