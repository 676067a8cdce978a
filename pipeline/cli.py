"""The `backstride` command line. Only this module knows about the command line.

Each command parses its options, calls one function of the pipeline package and prints
the result. Sections are grouped per stage; keep new commands in their stage's section.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.console import Console

from pipeline.config import Settings, load_settings

app = typer.Typer(
    help="backstride: reads runners' Strava activities into DuckDB, checks them, finds "
    "training patterns linked to back pain and running injuries, and emails a weekly digest.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
auth_app = typer.Typer(help="Connect a runner's Strava account (OAuth).", no_args_is_help=True)
athletes_app = typer.Typer(help="Register, list and remove athletes.", no_args_is_help=True)
webhook_app = typer.Typer(help="Receive and manage Strava webhook events.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")
app.add_typer(athletes_app, name="athletes")
app.add_typer(webhook_app, name="webhook")

# Piped output (make, CI, files) gets 120 columns instead of rich's 80, so tables are not cut.
out = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    try:
        return load_settings()
    except ValueError as e:
        fail(str(e))
        raise  # unreachable


def print_rows(columns: list[str], rows: list[tuple], title: str | None = None) -> None:
    """A table on a terminal; plain tab-separated lines when piped (nothing cut off)."""
    if not out.is_terminal:
        if title:
            print(title)
        print("\t".join(columns))
        for row in rows:
            print("\t".join("" if v is None else str(v) for v in row))
        return
    from rich.table import Table

    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    out.print(table)


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


# --- ingestion: auth, athletes, sync, sql, strava-stub, demo --------------------------


@auth_app.command("url")
def auth_url(
    redirect_uri: Annotated[
        str, typer.Option(help="Where Strava sends the runner back with ?code=... after they approve.")
    ] = "http://127.0.0.1:8765/exchange",
) -> None:
    """Print the URL a runner opens to let backstride read their activities.

    Scopes: read, activity:read_all, profile:read_all. After approving, Strava redirects to
    REDIRECT_URI?code=CODE: pass that code to `backstride auth exchange`.
    """
    from pipeline.strava_client import StravaError, authorization_url

    try:
        out.print(authorization_url(settings(), redirect_uri), highlight=False)
    except StravaError as e:
        fail(str(e))


@auth_app.command("exchange")
def auth_exchange(
    code: Annotated[str, typer.Argument(help="The ?code= value from the redirect after the runner approved.")],
    email: Annotated[str, typer.Option(help="Where to send this runner's weekly digest.")],
    timezone: Annotated[Optional[str], typer.Option(help="IANA zone, e.g. Europe/London (default: Strava's).")] = None,
) -> None:
    """Trade an authorisation code for tokens and add the athlete."""
    from pipeline.strava_client import StravaError, exchange_code
    from pipeline.sync import register_athlete

    s = settings()
    try:
        tokens, _ = exchange_code(s, code)
        athlete_id, name = register_athlete(s, tokens.refresh_token, email, timezone, tokens=tokens)
    except StravaError as e:
        fail(str(e))
    out.print(f"added athlete {athlete_id} ({name}); run `backstride sync --athlete {athlete_id}` next")


@athletes_app.command("add")
def athletes_add(
    refresh_token: Annotated[
        str, typer.Option(help="The athlete's Strava refresh token (stored owner-only, never shown).")
    ],
    email: Annotated[str, typer.Option(help="Where to send this runner's weekly digest.")],
    timezone: Annotated[Optional[str], typer.Option(help="IANA zone, e.g. Europe/London (default: Strava's).")] = None,
) -> None:
    """Register an athlete: refresh the token, read the profile and shoes, save the tokens."""
    from pipeline.strava_client import StravaError
    from pipeline.sync import register_athlete

    try:
        athlete_id, name = register_athlete(settings(), refresh_token, email, timezone)
    except StravaError as e:
        fail(str(e))
    out.print(f"added athlete {athlete_id} ({name})")


@athletes_app.command("list")
def athletes_list() -> None:
    """List registered athletes with their last sync."""
    from pipeline.query import run_query

    result = run_query(
        settings(),
        """select a.athlete_id, trim(coalesce(a.firstname, '') || ' ' || coalesce(a.lastname, '')) as name,
                  a.email, a.timezone, a.digest_enabled, a.needs_reauth,
                  s.last_sync_at, s.last_status,
                  (select count(*) from activities x where x.athlete_id = a.athlete_id) as activities
           from athletes a left join sync_state s using (athlete_id) order by a.athlete_id""",
    )
    print_rows(result.columns, result.rows)


@athletes_app.command("remove")
def athletes_remove(athlete_id: Annotated[int, typer.Argument(help="Strava athlete id.")]) -> None:
    """Delete every row of an athlete from every table, their tokens and outbox files."""
    from pipeline.sync import remove_athlete

    deleted = remove_athlete(settings(), athlete_id)
    rows = sum(v for k, v in deleted.items() if k not in ("tokens", "outbox_files"))
    out.print(
        f"removed athlete {athlete_id}: {rows} rows, {deleted['tokens']} token file, {deleted['outbox_files']} outbox files"
    )


@app.command()
def sync(
    athlete: Annotated[Optional[int], typer.Option(help="Sync only this athlete id.")] = None,
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
        results = _with_progress(lambda progress: sync_all(s, athlete_id=athlete, full=full, progress=progress))
    except (LookupError, WarehouseBusy) as e:
        fail(str(e))
    for r in results:
        colour = {"ok": "green", "deferred": "yellow"}.get(r.status, "red")
        out.print(f"[{colour}]{r.summary()}[/{colour}]", highlight=False)
    if any(r.status in ("error", "needs_reauth") for r in results):
        raise typer.Exit(2)


def _with_progress(run):  # type: ignore[no-untyped-def]
    """Run `run(progress)` with a progress bar when stderr is a terminal."""
    if not err.is_terminal:
        return run(None)
    from rich.progress import Progress

    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("syncing", total=None)

        def progress(athlete_id: int, what: str) -> None:
            bar.update(task, description=f"{what} athlete {athlete_id}" if athlete_id >= 0 else what, advance=1)

        return run(progress)


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help='One read-only query, e.g. "select * from weekly_load limit 5".')],
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json (an array of objects).")] = "table",
) -> None:
    """Run a read-only SQL query on the warehouse (writes are refused).

    Works while the pipeline runs: readers fall back to the last published copy.
    """
    from pipeline.query import QueryRefused, run_query, to_csv, to_json
    from pipeline.warehouse import WarehouseBusy

    if format not in ("table", "csv", "json"):
        fail("--format must be table, csv or json")
    try:
        result = run_query(settings(), query)
    except (QueryRefused, WarehouseBusy, FileNotFoundError) as e:
        fail(str(e))
    except Exception as e:  # a DuckDB error in the user's query
        fail(f"{type(e).__name__}: {e}")
    if format == "json":
        sys.stdout.write(to_json(result) + "\n")
    elif format == "csv":
        sys.stdout.write(to_csv(result))
    else:
        print_rows(result.columns, result.rows)
        err.print(f"{len(result.rows)} rows", style="dim")


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

    s = settings()
    try:
        results = _with_progress(lambda progress: sync_all(s, progress=progress))
    except WarehouseBusy as e:
        fail(str(e))
    for r in results:
        out.print(r.summary(), highlight=False)
    built = run_build(s)
    out.print(built.summary(), highlight=False)
    report = send_digests(s, week=_parse_week(week))
    for item in report.results:
        (err if item.status == "failed" else out).print(str(item), highlight=False, markup=False)
    if not report.ok or any(r.status in ("error", "needs_reauth") for r in results):
        raise typer.Exit(2)


@app.command("strava-stub")
def strava_stub(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8710,
    short_limit: Annotated[int, typer.Option(help="Read requests allowed per 15 minutes (Strava: 100).")] = 100,
    daily_limit: Annotated[int, typer.Option(help="Read requests allowed per day (Strava: 1000).")] = 1000,
    today: Annotated[
        Optional[str], typer.Option(help="Date the demo data is built around (YYYY-MM-DD; default: today, UTC).")
    ] = None,
) -> None:
    """Serve the local Strava-compatible API with the demo athletes until Ctrl-C."""
    import time
    from datetime import date

    from pipeline.strava_stub.demo_data import build_world
    from pipeline.strava_stub.server import StubServer

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be a date like 2026-11-26, not {today!r}")
    server = StubServer(build_world(day), port=port, short_limit=short_limit, daily_limit=daily_limit)
    try:
        url = server.start()
    except OSError as e:
        fail(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}")
    out.print(f"Strava-compatible API at {url}\nPoint backstride at it with: export STRAVA_BASE_URL={url}")
    out.file.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


@app.command()
def demo() -> None:
    """Run everything offline on the demo athletes: local Strava server, sync, build, digests."""
    from pipeline.demo import run_demo

    code = run_demo(settings(), out)
    raise typer.Exit(code)


# --- webhooks (issue 6): serve, subscribe, list, unsubscribe, process ------------------


@webhook_app.command("serve")
def webhook_serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8787,
) -> None:
    """Receive Strava's events on /webhook; queue them in the inbox and tell Airflow."""
    import os

    from pipeline import webhooks

    s = settings()
    if not s.verify_token:
        err.print("[yellow]warning:[/yellow] STRAVA_VERIFY_TOKEN is not set: Strava's handshake will be refused")
    if not webhooks.read_subscription_ids(s, os.environ):
        err.print(
            "[yellow]warning:[/yellow] no subscription id known yet: events are refused (403) until "
            "`backstride webhook subscribe` runs or STRAVA_SUBSCRIPTION_ID is set"
        )
    out.print(f"receiving Strava events on http://{host}:{port}{webhooks.WEBHOOK_PATH}; inbox {s.inbox_dir}")
    webhooks.serve(s, os.environ, host=host, port=port)


@webhook_app.command("subscribe")
def webhook_subscribe(
    callback_url: Annotated[
        str, typer.Option("--callback-url", help="Public URL of `webhook serve`, ending in /webhook.")
    ],
) -> None:
    """Create the application's push subscription (Strava calls the receiver to check it first)."""
    from pipeline import webhooks

    try:
        sub = webhooks.subscribe(settings(), callback_url)
    except Exception as e:  # stravalib raises several types; show the message, not a traceback
        fail(f"could not subscribe: {type(e).__name__}: {e}")
    out.print(f"subscribed: id {sub.id}, callback {sub.callback_url or callback_url}")


@webhook_app.command("list")
def webhook_list() -> None:
    """Show the application's push subscriptions."""
    from pipeline import webhooks

    try:
        subs = webhooks.list_subscriptions(settings())
    except Exception as e:
        fail(f"could not list subscriptions: {type(e).__name__}")
    if not subs:
        out.print("no subscription")
    for sub in subs:
        out.print(f"{sub.id}\t{sub.callback_url}\t{sub.created_at or ''}")


@webhook_app.command("unsubscribe")
def webhook_unsubscribe(subscription_id: Annotated[int, typer.Argument(help="Id from `webhook list`.")]) -> None:
    """Delete a push subscription; the receiver stops accepting its events."""
    from pipeline import webhooks

    try:
        webhooks.unsubscribe(settings(), subscription_id)
    except Exception as e:
        fail(f"could not unsubscribe: {type(e).__name__}: {e}")
    out.print(f"unsubscribed {subscription_id}")


@webhook_app.command("process")
def webhook_process() -> None:
    """Replay the event inbox without Airflow: fetch, delete or remove, once per event."""
    from pipeline import webhooks

    report = webhooks.process_inbox(settings())
    out.print(
        f"{report.received} events: {report.fetched} fetched, {report.queued} queued for sync, "
        f"{report.deleted} deleted, {report.athletes_removed} athletes removed, {report.duplicates} duplicates, "
        f"{report.superseded} superseded, {report.skipped_unknown_athlete} of unknown athletes, "
        f"{report.requeued} kept for retry, {report.failed} failed"
    )
    for message in report.errors:
        err.print(message, highlight=False, markup=False)
    if report.failed:
        raise typer.Exit(1)


# --- validation (issue 3): validate --retry-quarantine / --report -----------------------


@app.command()
def validate(
    retry_quarantine: Annotated[
        bool, typer.Option("--retry-quarantine", help="Re-check open quarantined rows; merge those that now pass.")
    ] = False,
    report: Annotated[
        bool, typer.Option("--report", help="Show the latest validation runs and open quarantine per athlete.")
    ] = False,
    runs: Annotated[int, typer.Option(help="How many recent runs --report lists.")] = 10,
) -> None:
    """Data checks: re-check quarantined rows after editing a suite in expectations/, or report.

    With no option, prints the report. Suites are plain JSON files, one per table.
    """
    from pipeline.validation import BatchValidationError
    from pipeline.warehouse import WarehouseBusy

    s = settings()
    try:
        if retry_quarantine:
            from pipeline.loading import merge_frame
            from pipeline.validation import retry_quarantine as retry
            from pipeline.warehouse import writer

            with writer(s) as con:
                released = retry(con, merge_frame)
            total = sum(released.values())
            detail = ", ".join(f"{table} {n}" for table, n in released.items() if n) or "none"
            out.print(f"re-checked quarantine: {total} rows released ({detail})", highlight=False)
        if report or not retry_quarantine:
            _print_validation_report(s, runs)
    except (BatchValidationError, WarehouseBusy, FileNotFoundError) as e:
        fail(str(e))


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


# --- digest (issue 5): digest, athletes set --digest ------------------------------------


def _parse_week(value: Optional[str]):  # type: ignore[no-untyped-def]
    import datetime

    if value is None:
        return None
    try:
        week = datetime.date.fromisoformat(value)
    except ValueError:
        fail(f"--week must be a date like 2026-11-16, not {value!r}")
    if week.weekday() != 0:
        fail(f"--week must be a Monday; {week.isoformat()} is a {week:%A}")
    return week


@app.command()
def digest(
    week: Annotated[
        Optional[str], typer.Option(help="Monday of the week to report (default: each athlete's last complete week).")
    ] = None,
    athlete: Annotated[Optional[int], typer.Option(help="Only this athlete id.")] = None,
    resend: Annotated[bool, typer.Option("--resend", help="Send again even if this week's digest was sent.")] = False,
) -> None:
    """Email each athlete's weekly digest once (SMTP from BACKSTRIDE_SMTP_URL, else the outbox folder)."""
    from pipeline.digest import send_digests

    try:
        report = send_digests(settings(), week=_parse_week(week), athlete_id=athlete, resend=resend)
    except (LookupError, ValueError, RuntimeError, FileNotFoundError) as e:
        fail(str(e))
    for r in report.results:
        (err if r.status == "failed" else out).print(str(r), highlight=False, markup=False)
    out.print(
        f"digests: {report.count('sent')} sent, {report.count('skipped_already_sent')} already sent, "
        f"{report.count('disabled')} disabled, {report.count('failed')} failed",
        highlight=False,
    )
    if not report.ok:
        raise typer.Exit(1)


@athletes_app.command("set")
def athletes_set(
    athlete_id: Annotated[int, typer.Argument(help="Strava athlete id.")],
    digest: Annotated[
        Optional[str], typer.Option("--digest", help="on | off: whether this runner gets the weekly email.")
    ] = None,
) -> None:
    """Change an athlete's settings (for now: the weekly digest on or off)."""
    from pipeline.digest import set_digest_enabled

    if digest is None:
        fail("nothing to set: pass --digest on|off")
    if digest.lower() not in ("on", "off"):
        fail(f"--digest must be on or off, not {digest!r}")
    try:
        set_digest_enabled(settings(), athlete_id, digest.lower() == "on")
    except LookupError as e:
        fail(str(e))
    out.print(f"athlete {athlete_id}: weekly digest {digest.lower()}")


# --- models (issue 4): thresholds list / set / unset -------------------------------------

thresholds_app = typer.Typer(help="The risk rules' thresholds, and per-athlete overrides.", no_args_is_help=True)
app.add_typer(thresholds_app, name="thresholds")


@thresholds_app.command("list")
def thresholds_list(
    athlete: Annotated[Optional[int], typer.Option(help="Also show this athlete's own values.")] = None,
) -> None:
    """Every rule parameter with its default, unit and evidence grade (sql/seeds/rule_thresholds.csv)."""
    from pipeline.models import threshold_table

    columns, rows = threshold_table(settings(), athlete)
    print_rows(columns, rows, title="Rule thresholds")


@thresholds_app.command("set")
def thresholds_set(
    athlete_id: Annotated[int, typer.Argument(help="Strava athlete id.")],
    rule_id: Annotated[str, typer.Argument(help="For example shoes.mileage.")],
    param: Annotated[str, typer.Argument(help="For example warning_km.")],
    value: Annotated[float, typer.Argument(help="The athlete's own value.")],
) -> None:
    """Give one athlete their own value for a rule parameter (applies from the next build)."""
    from pipeline.models import save_override

    try:
        default = save_override(settings(), athlete_id, rule_id, param, value)
    except KeyError as e:
        fail(str(e.args[0]))
    out.print(f"athlete {athlete_id}: {rule_id}.{param} = {value:g} (default {default:g}); run `backstride build`")


@thresholds_app.command("unset")
def thresholds_unset(
    athlete_id: Annotated[int, typer.Argument(help="Strava athlete id.")],
    rule_id: Annotated[str, typer.Argument(help="For example shoes.mileage.")],
    param: Annotated[str, typer.Argument(help="For example warning_km.")],
) -> None:
    """Remove an athlete's own value: the default applies again from the next build."""
    from pipeline.models import remove_override

    if not remove_override(settings(), athlete_id, rule_id, param):
        fail(f"athlete {athlete_id} has no override for {rule_id}.{param}")
    out.print(f"athlete {athlete_id}: {rule_id}.{param} back to the default; run `backstride build`")


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
