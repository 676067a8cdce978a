"""`backstride build` and `backstride run`: rebuild the models, or sync, build and send in one go."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.app import app, err, fail, out, settings
from pipeline.cli.checks import parse_week
from pipeline.cli.sync import with_progress


@app.command()
def build() -> None:
    """Validate what sync landed (quarantining bad rows), then rebuild the SQL models."""
    from pipeline.build import run_build

    result = run_build(settings())
    out.print(result.summary(), highlight=False)


@app.command()
def run(
    week: Annotated[
        Optional[str], typer.Option(help="Monday of the week to report (default: each athlete's last complete week).")
    ] = None,
) -> None:
    """Sync, build and send the weekly digests: the whole job in one command."""
    from pipeline.build import run_build
    from pipeline.digest import send_digests
    from pipeline.sync import sync_all
    from pipeline.warehouse import WarehouseBusy

    monday = parse_week(week)  # a bad --week is refused before anything runs
    s = settings()
    try:
        results = with_progress(lambda progress: sync_all(s, progress=progress))
    except WarehouseBusy as e:
        fail(str(e))
    for r in results:
        out.print(r.summary(), highlight=False, markup=False)
    built = run_build(s)
    out.print(built.summary(), highlight=False)
    report = send_digests(s, week=monday)
    for item in report.results:
        (err if item.status == "failed" else out).print(str(item), highlight=False, markup=False)
    if not report.ok or any(r.status in ("error", "needs_reauth") for r in results):
        raise typer.Exit(2)
