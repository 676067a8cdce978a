"""Fixtures for the Strava stub: a demo world for a fixed day and a server serving it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import pytest

from pipeline.strava_stub import StubServer, World, build_world

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("SILENCE_TOKEN_WARNINGS", "true")

# A Thursday: the last complete week is Mon 16 - Sun 22 November 2026.
TODAY = date(2026, 11, 26)


@pytest.fixture
def world() -> World:
    return build_world(TODAY)


@pytest.fixture
def stub(world: World) -> Iterator[StubServer]:
    with StubServer(world) as server:
        yield server
    assert server.internal_errors == [], server.internal_errors[0]
