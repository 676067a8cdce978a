"""`backstride maintain`: merge the lake's small files, expire old snapshots, delete unneeded files."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.app import app, fail, out, settings


@app.command()
def maintain(
    retention_days: Annotated[
        float,
        typer.Option(
            "--retention-days", help="Keep snapshots (time travel, `sql --snapshot`) this many days back.", min=0
        ),
    ] = 7.0,
) -> None:
    """Compact the warehouse: merge small data files, expire snapshots older than the retention."""
    import datetime as dt

    from pipeline.maintenance import maintain as run_maintenance
    from pipeline.warehouse import WarehouseBusy

    s = settings()
    if not s.warehouse_exists():
        fail(f"no warehouse at {s.catalog_path}: nothing to maintain")
    try:
        report = run_maintenance(s, dt.timedelta(days=retention_days))
    except WarehouseBusy as e:
        fail(str(e))
    out.print(report.summary(), highlight=False)
