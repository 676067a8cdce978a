"""`backstride demo`: the whole pipeline offline, on the demo athletes.

Starts the local Strava-compatible server on a free port, registers the demo athletes,
syncs them through stravalib, validates and builds the models, writes the weekly digests
to the outbox, and prints what it did and where the results are. Safe to run again.
"""

from __future__ import annotations

import dataclasses

from rich.console import Console
from rich.table import Table

from pipeline.config import Settings


def run_demo(settings: Settings, console: Console) -> int:
    """Returns the process exit code (0 when every step worked)."""
    from pipeline.build import run_build
    from pipeline.digest import send_digests
    from pipeline.query import run_query
    from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, build_world
    from pipeline.strava_stub.server import StubServer
    from pipeline.sync import register_athlete, sync_all

    world = build_world()
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
        results = sync_all(demo)
        for r in results:
            console.print(f"   {r.summary()}", highlight=False)
    console.print("[bold]4. Validating and building the models[/bold]")
    built = run_build(demo)
    console.print(
        f"   {sum(built.ingest.rows_merged.values())} rows merged, {built.ingest.quarantined} quarantined; {built.models}",
        highlight=False,
    )
    quarantine = run_query(
        demo,
        """select table_name, count(*) as rows, string_agg(distinct array_to_string(failed_expectations, ', '), '; ') as reasons
           from quarantine where released_at is null group by table_name order by table_name""",
    )
    for table_name, rows, reasons in quarantine.rows:
        console.print(f"   quarantined in {table_name}: {rows} ({reasons})", highlight=False)

    flags = run_query(
        demo,
        """select f.athlete_id, f.week_start, f.severity, f.rule_id
           from risk_flags f
           where f.week_start = (select max(week_start) from risk_flags g where g.athlete_id = f.athlete_id)
           order by f.athlete_id, case f.severity when 'warning' then 0 when 'watch' then 1 else 2 end, f.rule_id""",
    )
    table = Table("athlete", "week", "severity", "rule", title="5. Risk patterns in each athlete's latest week")
    for row in flags.rows:
        table.add_row(*[str(v) for v in row])
    console.print(table)

    console.print("[bold]6. Weekly digests[/bold]")
    report = send_digests(demo)
    failed = 0
    for item in report.items:
        console.print(f"   {item}", highlight=False)
        failed += item.status == "failed"
    console.print(
        f"\nWarehouse: {demo.warehouse_path}\nOutbox:    {demo.outbox_dir}  (open the .html previews in a browser)\n"
        'Ask your own questions: backstride sql "select * from weekly_load order by week_start desc limit 10"',
        highlight=False,
    )
    return 1 if failed else 0
