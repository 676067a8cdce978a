"""`backstride digest`: email each athlete's weekly digest once."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.app import app, err, fail, out, settings
from pipeline.cli.checks import athlete_id_option, parse_week


@app.command()
def digest(
    week: Annotated[
        Optional[str], typer.Option(help="Monday of the week to report (default: each athlete's last complete week).")
    ] = None,
    athlete: Annotated[Optional[int], athlete_id_option("Only this athlete id.")] = None,
    resend: Annotated[bool, typer.Option("--resend", help="Send again even if this week's digest was sent.")] = False,
) -> None:
    """Email each athlete's weekly digest once (SMTP from BACKSTRIDE_SMTP_URL, else the outbox folder)."""
    from pipeline.digest import send_digests

    monday, s = parse_week(week), settings()  # outside the try: their typer.Exit is a RuntimeError
    try:
        report = send_digests(s, week=monday, athlete_id=athlete, resend=resend)
    except (LookupError, ValueError, RuntimeError, FileNotFoundError) as e:
        fail(str(e))
    for r in report.results:
        (err if r.status == "failed" else out).print(str(r), highlight=False, markup=False)
    out.print(
        f"digests: {report.count('sent')} sent, {report.count('skipped_already_sent')} already sent, "
        f"{report.count('disabled')} disabled, {report.count('failed')} failed, "
        f"{report.count('held')} held (waiting for a sync that succeeds)",
        highlight=False,
    )
    if not report.ok:
        raise typer.Exit(1)
