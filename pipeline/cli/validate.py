"""`backstride validate`: re-check quarantined rows, or report the latest validation runs."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.app import app, fail, out, settings
from pipeline.config import Settings


@app.command()
def validate(
    retry_quarantine: Annotated[
        bool, typer.Option("--retry-quarantine", help="Re-check open quarantined rows; merge those that now pass.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Show the latest validation runs and open quarantine per athlete.")
    ] = False,
    runs: Annotated[int, typer.Option(help="How many recent runs --report lists.", min=1, max=10_000)] = 10,
) -> None:
    """Data checks: re-check quarantined rows after editing a suite in expectations/, or report.

    With no option, prints the report. Suites are plain JSON files, one per table.
    """
    from pipeline.validation import BatchValidationError
    from pipeline.warehouse import WarehouseBusy

    s = settings()
    try:
        if retry_quarantine:
            _retry_quarantine(s)
        if report or not retry_quarantine:
            _print_validation_report(s, runs)
    except (BatchValidationError, WarehouseBusy, FileNotFoundError) as e:
        fail(str(e))


def _retry_quarantine(s: Settings) -> None:
    from pipeline.loading import merge_frame
    from pipeline.validation import retry_quarantine as retry
    from pipeline.warehouse import writer

    with writer(s) as con:
        released = retry(con, merge_frame)
    total = sum(released.values())
    detail = ", ".join(f"{table} {n}" for table, n in released.items() if n) or "none"
    out.print(f"re-checked quarantine: {total} rows released ({detail})", highlight=False)


def _print_validation_report(s: Settings, runs: int) -> None:
    from rich.table import Table

    from pipeline.validation import validation_report
    from pipeline.warehouse import connect_reader

    con = connect_reader(s)
    try:
        rep = validation_report(con, runs=runs)
    finally:
        con.close()
    table = Table("UTC", "suite", "batch", "rows", "passed", "held", "ok", "s", title="Latest validation runs")
    for r in rep.latest_runs:
        table.add_row(
            r.started_at.strftime("%m-%d %H:%M"),
            r.suite,
            r.batch_id,
            str(r.rows_checked),
            str(r.rows_passed),
            str(r.rows_quarantined),
            "yes" if r.success else ("FAILED: " + r.message if r.message else "no"),
            f"{r.duration_s:.2f}",
        )
    out.print(table if rep.latest_runs else "no validation runs yet")
    if not rep.open_quarantine:
        out.print("open quarantine: none")
        return
    table = Table("athlete", "table", "open rows", "failed expectations", title="Open quarantine per athlete")
    for q in rep.open_quarantine:
        athlete = "-" if q.athlete_id is None else str(q.athlete_id)
        table.add_row(athlete, q.table_name, str(q.open_rows), ", ".join(q.reasons))
    out.print(table)
