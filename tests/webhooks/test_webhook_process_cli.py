"""`backstride webhook process` replays the inbox without Airflow, with the real sync functions
against the local Strava stub; running it again changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from webhook_support import event

from pipeline.config import Settings
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, synthetic_world
from pipeline.strava_stub.server import StubServer
from pipeline.sync import register_athlete
from pipeline.warehouse import connect_reader
from pipeline.webhooks.inbox import Inbox

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def world_and_settings(settings: Settings) -> Iterator[tuple]:
    world = synthetic_world(n_athletes=1, activities_per_athlete=3)
    with StubServer(world) as stub:
        s = replace(settings, strava_base_url=stub.base_url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        athlete = next(iter(world.athletes.values()))
        register_athlete(s, athlete.refresh_token, "runner@example.org", "UTC")
        yield world, athlete, s


def process(s: Settings) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "BACKSTRIDE_HOME": str(s.home),
        "STRAVA_BASE_URL": s.strava_base_url,
        "STRAVA_CLIENT_ID": str(s.client_id),
        "STRAVA_CLIENT_SECRET": s.client_secret or "",
        "GX_ANALYTICS_ENABLED": "false",
    }
    cli = str(Path(sys.executable).with_name("backstride"))
    return subprocess.run([cli, "webhook", "process"], env=env, capture_output=True, text=True, timeout=240)


def activities(s: Settings) -> set[int]:
    con = connect_reader(s)
    try:
        return {r[0] for r in con.execute("select activity_id from activities").fetchall()}
    finally:
        con.close()


def test_process_fetches_the_new_activity_and_a_second_run_does_nothing(world_and_settings) -> None:
    world, athlete, s = world_and_settings
    activity = world.add_activity(athlete.athlete_id, {"name": "Lunch run", "distance": 5000.0, "moving_time": 1500})
    Inbox(s.inbox_dir).append(
        [
            event(object_id=activity["id"], owner_id=athlete.athlete_id),
            event(object_id=activity["id"], owner_id=athlete.athlete_id),
        ]
    )
    first = process(s)
    assert first.returncode == 0, first.stderr
    assert "2 events: 1 fetched" in first.stdout and "1 duplicates" in first.stdout
    assert activity["id"] in activities(s)
    assert DEMO_CLIENT_SECRET not in first.stdout + first.stderr

    Inbox(s.inbox_dir).append([event(object_id=activity["id"], owner_id=athlete.athlete_id)])  # a late retry
    second = process(s)
    assert second.returncode == 0, second.stderr
    assert "1 events: 0 fetched" in second.stdout and "1 duplicates" in second.stdout
