"""Fixtures for ingestion tests: a real Strava-compatible server on 127.0.0.1 and a
backstride home in a temporary directory, talking through stravalib."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings, load_settings
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, World, synthetic_world
from pipeline.strava_stub.server import StubServer
from pipeline.sync import register_athlete

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


def settings_for(home: Path, server: StubServer, **overrides: object) -> Settings:
    base = load_settings({"BACKSTRIDE_HOME": str(home)})
    return dataclasses.replace(
        base,
        strava_base_url=server.base_url,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        backoff_s=0.01,
        **overrides,  # type: ignore[arg-type]
    )


def register_all(settings: Settings, world: World) -> list[int]:
    return [register_athlete(settings, a.refresh_token, a.email, a.timezone)[0] for a in world.athletes.values()]


@pytest.fixture
def small_world() -> World:
    """One plain runner with 40 days of daily runs (a few seconds to sync)."""
    return synthetic_world(1, 40)
