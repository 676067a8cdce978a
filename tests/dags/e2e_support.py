"""The pieces an end-to-end run needs, on 127.0.0.1: the Strava stub with the demo athletes,
a loopback SMTP server, the webhook receiver under uvicorn, and backstride settings.

Used by tests/dags/test_dags_end_to_end.py and by bench/bench_dags.py (event latency).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loopback_support import Mailbox, running_smtp, running_uvicorn

from pipeline.config import Settings, load_settings

VERIFY_TOKEN = "e2e-verify-token"


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    with running_smtp() as server:
        yield server.mailbox, server.port


@dataclasses.dataclass
class Stack:
    """A running stub and SMTP server, settings pointing at them, and the demo athletes registered."""

    settings: Settings
    stub: Any
    world: Any
    mailbox: Mailbox
    smtp_port: int

    def airflow_env(self) -> dict[str, str]:
        """The AIRFLOW_CONN_* / AIRFLOW_VAR_* values the DAGs read (same shape as .env.example)."""
        return {
            "AIRFLOW_CONN_STRAVA_DEFAULT": json.dumps(
                {
                    "conn_type": "http",
                    "login": str(self.settings.client_id),
                    "password": self.settings.client_secret,
                    "host": self.stub.base_url,
                }
            ),
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
                {
                    "conn_type": "smtp",
                    "host": "127.0.0.1",
                    "port": self.smtp_port,
                    "extra": {
                        "disable_ssl": True,
                        "disable_tls": True,
                        "from_email": "backstride <digest@example.org>",
                    },
                }
            ),
            "AIRFLOW_VAR_BACKSTRIDE_HOME": str(self.settings.home),
        }

    def new_run(self, athlete_id: int, hours_ago: float = 2.0) -> dict[str, Any]:
        """Add a fresh run for the athlete on the stub (as if just uploaded to Strava)."""
        athlete = self.world.athlete(athlete_id)
        from zoneinfo import ZoneInfo

        start = (datetime.now(UTC) - timedelta(hours=hours_ago)).astimezone(ZoneInfo(athlete.timezone))
        run = self.world.new_run(athlete_id, start.replace(tzinfo=None, microsecond=0), 8.0)
        return self.world.add_activity(athlete_id, run)


@contextmanager
def running_stack(home: Path | None = None, register: bool = True) -> Iterator[Stack]:
    from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, build_world
    from pipeline.strava_stub.server import StubServer
    from pipeline.sync import register_athlete

    home = home or Path(tempfile.mkdtemp(prefix="backstride-e2e-"))
    world = build_world()
    with StubServer(world, short_limit=2000, daily_limit=20000) as stub, smtp_server() as (mailbox, smtp_port):
        settings = load_settings(
            {
                "BACKSTRIDE_HOME": str(home),
                "STRAVA_BASE_URL": stub.base_url,
                "STRAVA_CLIENT_ID": str(DEMO_CLIENT_ID),
                "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
                "STRAVA_VERIFY_TOKEN": VERIFY_TOKEN,
            }
        )
        if register:
            for athlete in world.athletes.values():
                register_athlete(settings, athlete.refresh_token, athlete.email, athlete.timezone)
        yield Stack(settings, stub, world, mailbox, smtp_port)


@contextmanager
def receiver(stack: Stack) -> Iterator[str]:
    """The webhook receiver, subscribed on the stub through stravalib (the stub checks the handshake)."""
    from pipeline.webhooks import WEBHOOK_PATH, create_app, subscribe, unsubscribe

    with running_uvicorn(create_app(stack.settings, env={})) as url:
        sub = subscribe(stack.settings, url + WEBHOOK_PATH)
        try:
            yield url
        finally:
            unsubscribe(stack.settings, sub.id)  # one subscription per application


def activity_in_warehouse(settings: Settings, activity_id: int) -> bool:
    from pipeline.warehouse import connect_reader

    con = connect_reader(settings)
    try:
        return con.execute("select count(*) from activities where activity_id = ?", [activity_id]).fetchone()[0] == 1
    finally:
        con.close()


def latency_runs(runs: int) -> list[dict[str, float]]:
    """Event-to-warehouse latency: stub pushes a create event -> receiver -> process_inbox -> row."""
    from pipeline.webhooks import process_inbox

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    samples = []
    with running_stack() as stack, receiver(stack):
        athlete_id = next(iter(stack.world.athletes))
        for _ in range(runs):
            activity = stack.new_run(athlete_id)
            t0 = time.perf_counter()
            status = stack.stub.push_event("activity", activity["id"], "create", athlete_id)
            t1 = time.perf_counter()
            assert status == 200, status
            report = process_inbox(stack.settings)
            t2 = time.perf_counter()
            assert report.fetched == 1 and activity_in_warehouse(stack.settings, activity["id"]), report
            samples.append({"post": t1 - t0, "process": t2 - t1, "total": time.perf_counter() - t0})
    return samples
