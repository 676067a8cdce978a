"""`backstride sync`: pull new and changed activities from Strava, with a progress bar on a terminal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from pipeline.cli.app import app, err, fail, out, settings
from pipeline.cli.checks import athlete_id_option

Progress = Callable[[int, str], None]


@app.command()
def sync(
    athlete: Annotated[Optional[int], athlete_id_option("Sync only this athlete id.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Re-read the whole history, not just what is new.")] = False,
) -> None:
    """Pull new and changed activities from Strava for every athlete (or one).

    Prints one line per athlete. Athletes deferred by Strava's rate limit continue where
    they stopped on the next run. Exit code 2 if any athlete failed or needs re-authorisation.
    """
    from pipeline.sync import sync_all
    from pipeline.warehouse import WarehouseBusy

    s = settings()
    try:
        results = with_progress(lambda progress: sync_all(s, athlete_id=athlete, full=full, progress=progress))
    except (LookupError, WarehouseBusy) as e:
        fail(str(e))
    for r in results:
        colour = {"ok": "green", "deferred": "yellow"}.get(r.status, "red")
        out.print(f"[{colour}]{r.summary()}[/{colour}]", highlight=False)
    if any(r.status in ("error", "needs_reauth") for r in results):
        raise typer.Exit(2)


def with_progress(run: Callable[[Optional[Progress]], Any]) -> Any:
    """Run `run(progress)` with a progress bar when stderr is a terminal."""
    if not err.is_terminal:
        return run(None)
    from rich.progress import Progress as Bar

    with Bar(console=err, transient=True) as bar:
        task = bar.add_task("syncing", total=None)

        def progress(athlete_id: int, what: str) -> None:
            bar.update(task, description=f"{what} athlete {athlete_id}" if athlete_id >= 0 else what, advance=1)

        return run(progress)
