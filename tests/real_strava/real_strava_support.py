"""Helpers for the tests over the real recordings: a served recorded world, SQL, a clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.athletes import register_athlete
from pipeline.strava_stub.recorded import RECORDED_EMAIL, RECORDED_TIMEZONE, RecordedWorld, recorded_world
from pipeline.strava_stub.server import StubServer
from tests.lake_support import open_lake

RUN_TYPES = ("Run", "TrailRun", "VirtualRun")
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = PROJECT_ROOT.parent / "shared" / "real-strava"  # ../shared/real-strava from the project root


class FakeClock:
    """The stub's clock: real time plus whatever the test advanced it by."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return datetime.now(UTC).timestamp() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def start_world(corpus: Any, now: datetime, **options: Any) -> tuple[RecordedWorld, StubServer]:
    world = recorded_world(corpus.directory, now=now, corpus=corpus)
    server = StubServer(world, **options)
    server.start()
    return world, server


def register(settings: Any, world: RecordedWorld) -> tuple[int, str]:
    athlete = world.athlete_record
    return register_athlete(settings, athlete.refresh_token, RECORDED_EMAIL, RECORDED_TIMEZONE)


def rows(settings: Any, sql: str, params: list | None = None) -> list[tuple]:
    con = open_lake(settings, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def scalar(settings: Any, sql: str, params: list | None = None) -> Any:
    return rows(settings, sql, params)[0][0]


def sport(activity: dict[str, Any]) -> str | None:
    return activity.get("sport_type") or activity.get("type")


def start(activity: dict[str, Any]) -> datetime:
    return datetime.strptime(activity["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
