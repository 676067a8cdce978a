"""Shared fixtures: a real Strava-compatible server on 127.0.0.1 (the bundled stub).

Each test directory adds its own fixtures in its own conftest.py; helpers shared across
directories live in modules beside this file (e.g. sync_support.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from pipeline.strava_stub.demo_data import World, synthetic_world
from pipeline.strava_stub.server import StubServer
from pipeline.warehouse import init_schema
from tests.lake_support import open_lake

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture
def start_stub() -> Iterator[Callable[..., StubServer]]:
    """Start a StubServer for a world; stopped after the test."""
    servers: list[StubServer] = []

    def start(world: World, **options: object) -> StubServer:
        server = StubServer(world, **options)  # type: ignore[arg-type]
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def small_world() -> World:
    """One plain runner with 40 days of daily runs (a few seconds to sync)."""
    return synthetic_world(1, 40)


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A real DuckDB warehouse file with the ingestion schema (used by the ingest, validation and model tests)."""
    connection = open_lake(tmp_path)
    init_schema(connection)
    yield connection
    connection.close()
