"""`backstride demo`: the whole pipeline offline, on the demo athletes.

Starts the local Strava-compatible server on a free port, registers the demo athletes,
syncs them through stravalib, validates and builds the models, writes the weekly digests
to the outbox, and prints what it did and where the results are. Safe to run again.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from pipeline.config import Settings

if TYPE_CHECKING:
    from pipeline.strava_stub.demo_data import World


def run_demo(settings: Settings, console: Console) -> int:
    """Returns the process exit code (0 when every step worked)."""
    from pipeline.strava_stub.demo_data import build_world

    world = build_world()
    demo = _serve_and_sync(settings, world, console)
    _build(demo, console)
    _patterns(demo, world, console)
    failed = _digests(demo, console)
    console.print(
        f"\nWarehouse: {demo.catalog_path} (data files in {demo.data_path})\nOutbox:    {demo.outbox_dir}  (open the .html previews in a browser)\n"
        f'Ask your own questions: {_command()} sql "select * from risk_flags order by week_start desc limit 10"',
        highlight=False,
    )
    return 1 if failed else 0


def _serve_and_sync(settings: Settings, world: World, console: Console) -> Settings:
    """Steps 1-3: the local server, the athletes registered and synced; returns the demo's settings."""
    from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from pipeline.strava_stub.server import StubServer
    from pipeline.sync import register_athlete, sync_all

    # An approved app's limits: the demo fetches about 500 details and streams at once.
    with StubServer(world, short_limit=2000, daily_limit=20000) as server:
        demo = dataclasses.replace(
            settings,
            strava_base_url=server.base_url,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            smtp_url=None,  # the demo writes its emails to the outbox
        )
        console.print(f"[bold]1. Local Strava-compatible server[/bold] at {server.base_url}")
        console.print(f"[bold]2. Registering {len(world.athletes)} demo athletes[/bold]")
        for athlete in world.athletes.values():
            athlete_id, name = register_athlete(demo, athlete.refresh_token, athlete.email, athlete.timezone)
            console.print(f"   {athlete_id} {name} ({athlete.persona}) <{athlete.email}>", highlight=False)
        console.print("[bold]3. Syncing through stravalib[/bold]")
        for r in sync_all(demo):
            console.print(f"   {r.summary()}", highlight=False)
    return demo


def _build(demo: Settings, console: Console) -> None:
    """Step 4: validate and build, and say what was quarantined."""
    from pipeline.build import run_build
    from pipeline.query import run_query

    console.print("[bold]4. Validating and building the models[/bold]")
    built = run_build(demo)
    console.print(f"   {built.summary()}", highlight=False)
    quarantine = run_query(
        demo,
        """select table_name, count(*) as rows, string_agg(distinct array_to_string(failed_expectations, ', '), '; ') as reasons
           from quarantine where released_at is null group by table_name order by table_name""",
    )
    for table_name, rows, reasons in quarantine.rows:
        console.print(f"   quarantined in {table_name}: {rows} ({reasons})", highlight=False)


def _patterns(demo: Settings, world: World, console: Console) -> None:
    """Step 5: each athlete's flags in their last complete week, as a table."""
    from pipeline.digest import last_complete_week
    from pipeline.query import run_query

    table = Table(
        "athlete", "week of", "severity", "evidence", "rule", title="5. Patterns in each athlete's last complete week"
    )
    for athlete in world.athletes.values():
        week = last_complete_week(athlete.timezone)
        flags = run_query(
            demo,
            f"""select severity, evidence, rule_id from risk_flags
                where athlete_id = {int(athlete.athlete_id)} and week_start = date '{week.isoformat()}'
                order by case severity when 'warning' then 0 when 'watch' then 1 else 2 end, rule_id""",
        )
        for severity, evidence, rule_id in flags.rows or [("-", "-", "no patterns found: a steady week")]:
            table.add_row(f"{athlete.athlete_id} {athlete.persona}", week.isoformat(), severity, evidence, rule_id)
    console.print(table)


def _digests(demo: Settings, console: Console) -> int:
    """Step 6: the weekly digests; returns how many failed."""
    from pipeline.digest import send_digests

    console.print("[bold]6. Weekly digests[/bold]")
    report = send_digests(demo)
    failed = 0
    for item in report.items:
        console.print(f"   {item}", highlight=False)
        failed += item.status == "failed"
    return failed


def _command() -> str:
    """How the user can call `backstride` from here (the venv may not be activated)."""
    exe = Path(sys.executable).parent / "backstride"
    if shutil.which("backstride") == str(exe):
        return "backstride"
    try:
        return str(exe.relative_to(Path.cwd()))
    except ValueError:
        return str(exe)
