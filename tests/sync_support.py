"""Helpers shared by the ingestion tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from pipeline.athletes import register_athlete
from pipeline.config import Settings, load_settings
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, World
from pipeline.strava_stub.server import StubServer
from tests.lake_support import open_lake

TYPED = ("activities", "splits", "gear", "stream_features", "athletes")


def snapshot(settings: Settings, tables: tuple[str, ...] = TYPED) -> dict[str, list[tuple]]:
    """Every row of the typed tables, without load timestamps, in a stable order."""
    con = open_lake(settings, read_only=True)
    try:
        out = {}
        for table in tables:
            cols = [
                c
                for (c,) in con.execute(f"select column_name from (describe {table})").fetchall()
                if c not in ("loaded_at", "landing_id", "batch_id", "registered_at", "profile_updated_at")
            ]
            rows = con.execute(f"select {', '.join(cols)} from {table} order by all").fetchall()
            # sums of doubles depend on the order rows were stored in: compare to 9 decimals
            out[table] = [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]
        return out
    finally:
        con.close()


def count(settings: Settings, sql: str) -> int:
    con = open_lake(settings, read_only=True)
    try:
        return int(con.execute(sql).fetchall()[0][0])
    finally:
        con.close()


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


def registered_on_stub(
    home: Path, start_stub: Callable[..., StubServer], world: World, **overrides: object
) -> tuple[StubServer, Settings, list[int]]:
    """The stub serving `world`, settings pointing at it, and every athlete of the world registered."""
    server = start_stub(world)
    settings = settings_for(home, server, **overrides)
    return server, settings, register_all(settings, world)
