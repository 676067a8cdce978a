"""Fixtures for the Strava stub: a demo world for a fixed day and a server serving it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from stub_today import TODAY

from pipeline.strava_stub import StubServer, World, build_world

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("SILENCE_TOKEN_WARNINGS", "true")


@pytest.fixture
def world() -> World:
    return build_world(TODAY)


@pytest.fixture
def stub(world: World) -> Iterator[StubServer]:
    with StubServer(world) as server:
        yield server
    assert server.internal_errors == [], server.internal_errors[0]
