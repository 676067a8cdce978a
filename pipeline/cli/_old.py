"""The `backstride` command line. Only this module knows about the command line.

Each command parses its options, calls one function of the pipeline package and prints
the result. Sections are grouped per stage; keep new commands in their stage's section.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Annotated, Any, Optional

import click
import typer
from rich.console import Console
from rich.markup import escape

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
    """The settings from the environment; a bad variable ends the command with one line naming it."""
    try:
        return load_settings()
    except ValueError as e:  # config.ConfigError
        fail(str(e))
        raise  # unreachable


# Ids are Strava's: positive and within DuckDB's BIGINT (a larger number can name nothing).
MAX_ID = 2**63 - 1


def athlete_id_argument(help: str = "Strava athlete id.") -> Any:
    return typer.Argument(help=help, min=1, max=MAX_ID)


def athlete_id_option(help: str) -> Any:
    return typer.Option(help=help, min=1, max=MAX_ID)


def shown(value: str, limit: int = 60) -> str:
    """User text for a message: quoted, control characters escaped, cut short."""
    return repr(value if len(value) <= limit else value[:limit] + "...")


def check_text(option: str, value: str) -> str:
    """A value that must be non-empty and free of spaces and control characters (tokens, codes)."""
    if value.strip() == "":
        fail(f"{option} must not be empty", 2)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        fail(f"{option} must not contain spaces or control characters", 2)
    return value


def check_email(value: str) -> str:
    """One plain address (the digest's recipient): no display name, spaces or header-breaking characters."""
    local, at, domain = value.partition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in domain
        or len(value) > 254
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 or c in '<>(),;:"[]\\' for c in value)
        or domain.startswith(".")
        or domain.endswith(".")
    ):
        fail(f"--email must be one address like runner@example.com, not {shown(value)}", 2)
    return value


def check_timezone(value: Optional[str]) -> Optional[str]:
    """An IANA time zone name (Europe/London), or None for Strava's."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        if value.strip() != value or not value or value.startswith(("/", ".")) or ".." in value:
            raise ValueError(value)
        ZoneInfo(value)
    except Exception:  # ZoneInfoNotFoundError, ValueError, IsADirectoryError for "Europe", ...
        fail(f"--timezone must be an IANA time zone such as Europe/London or UTC, not {shown(value)}", 2)
    return value


def check_http_url(option: str, value: str) -> str:
    """An absolute http(s) URL with a host (callback and redirect addresses)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        fail(f"{option} must be an http:// or https:// address with a host, not {shown(value)}", 2)
    return value


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
    from rich.text import Text

    table = Table(*[Text(c) for c in columns], title=title)
    for row in rows:  # Text: a value is shown as it is, never read as rich markup
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    out.print(table)


def one_line(message: str) -> str:
    """A multi-line message (DuckDB's errors end in a LINE 1: and a caret line) as one line."""
    lines = [line.strip() for line in message.splitlines()]
    return " ".join(line for line in lines if line and set(line) != {"^"})


def fail(message: str, code: int = 1) -> None:
    """One line on stderr (the message is shown literally, never as markup), then exit `code`."""
    err.print(f"[red]error:[/red] {escape(one_line(message))}", highlight=False, markup=True)
    raise typer.Exit(code)


def _secrets() -> list[str]:
    """Every secret that could appear in an error's text (client secret, tokens, passwords)."""
    import os
    from urllib.parse import urlsplit

    values = [
        os.environ.get(k, "") for k in ("STRAVA_CLIENT_SECRET", "STRAVA_VERIFY_TOKEN", "BACKSTRIDE_AIRFLOW_PASSWORD")
    ]
    try:
        values.append(urlsplit(os.environ.get("BACKSTRIDE_SMTP_URL", "")).password or "")
    except ValueError:
        pass
    try:
        from pipeline.tokens import known_secrets

        values += known_secrets(load_settings())
    except Exception:  # an unusable home has no tokens to read
        pass
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def explain(error: BaseException) -> str:
    """One line for an exception no command expected: what failed and where, never a traceback."""
    from pipeline.tokens import redact
    from pipeline.warehouse import WarehouseBusy

    if isinstance(error, PermissionError):
        text = (
            f"permission denied: {error.filename or error}: BACKSTRIDE_HOME must be readable and writable by this user"
        )
    elif isinstance(error, OSError) and error.filename:
        text = f"cannot use {error.filename}: {error.strerror or error}"
    elif isinstance(error, WarehouseBusy | FileNotFoundError):
        text = str(error)
    elif type(error).__module__.startswith("duckdb"):
        text = f"the warehouse refused the operation ({type(error).__name__}): {error}"
    else:
        text = f"unexpected {type(error).__name__}: {error}"
    line = " ".join(redact(text, _secrets()).split())
    return line if len(line) <= 500 else line[:500] + "..."


def _guarded(command: Any) -> Any:
    """The safety net of every command: an unexpected exception becomes one line and exit 1."""

    @functools.wraps(command)
    def run_command(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as e:
            fail(explain(e))

    return run_command


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

    check_http_url("--redirect-uri", redirect_uri)
    try:
        out.print(authorization_url(settings(), redirect_uri), highlight=False, markup=False)
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

    check_text("CODE", code)
    check_email(email)
    check_timezone(timezone)
    s = settings()
    try:
        tokens, _ = exchange_code(s, code)
        athlete_id, name = register_athlete(s, tokens.refresh_token, email, timezone, tokens=tokens)
    except StravaError as e:
        fail(str(e))
    out.print(
        f"added athlete {athlete_id} ({name}); run `backstride sync --athlete {athlete_id}` next",
        markup=False,
        highlight=False,
    )


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

    check_text("--refresh-token", refresh_token)
    check_email(email)
    check_timezone(timezone)
    try:
        athlete_id, name = register_athlete(settings(), refresh_token, email, timezone)
    except StravaError as e:
        fail(str(e))
    out.print(f"added athlete {athlete_id} ({name})", markup=False, highlight=False)


@athletes_app.command("list")
def athletes_list() -> None:
    """List registered athletes with their last sync."""
    from pipeline.query import run_query

    s = settings()
    if not (s.warehouse_path.exists() or s.replica_path.exists()):
        out.print("no athletes yet: add one with `backstride athletes add` or `backstride auth exchange`")
        return
    result = run_query(
        s,
        """select a.athlete_id, trim(coalesce(a.firstname, '') || ' ' || coalesce(a.lastname, '')) as name,
                  a.email, a.timezone, a.digest_enabled, a.needs_reauth,
                  s.last_sync_at, s.last_status,
                  (select count(*) from activities x where x.athlete_id = a.athlete_id) as activities
           from athletes a left join sync_state s using (athlete_id) order by a.athlete_id""",
    )
    if not result.rows:
        out.print("no athletes yet: add one with `backstride athletes add` or `backstride auth exchange`")
        return
    print_rows(result.columns, result.rows)


@athletes_app.command("remove")
def athletes_remove(athlete_id: Annotated[int, athlete_id_argument()]) -> None:
    """Delete every row of an athlete from every table, their tokens and outbox files.

    An id that is not registered (no athlete row, no tokens) exits 1 saying so; whatever
    was left under that id anyway is still deleted, so running a remove again is safe.
    """
    from pipeline.sync import remove_athlete

    deleted = remove_athlete(settings(), athlete_id)
    rows = sum(v for k, v in deleted.items() if k not in ("tokens", "outbox_files"))
    what = f"{rows} rows, {deleted['tokens']} token file, {deleted['outbox_files']} outbox files"
    if not deleted.get("athletes") and not deleted["tokens"]:
        leftovers = f"; deleted what was left under that id: {what}" if rows or deleted["outbox_files"] else ""
        fail(f"athlete {athlete_id} is not registered (see `backstride athletes list`){leftovers}")
    out.print(f"removed athlete {athlete_id}: {what}")


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
    s = settings()
    try:
        result = run_query(s, query)
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

    monday = _parse_week(week)  # a bad --week is refused before anything runs
    s = settings()
    try:
        results = _with_progress(lambda progress: sync_all(s, progress=progress))
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


@app.command("strava-stub")
def strava_stub(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).", min=0, max=65535)] = 8710,
    short_limit: Annotated[
        int, typer.Option(help="Read requests allowed per 15 minutes (Strava: 100).", min=0, max=10**9)
    ] = 100,
    daily_limit: Annotated[
        int, typer.Option(help="Read requests allowed per day (Strava: 1000).", min=0, max=10**9)
    ] = 1000,
    today: Annotated[
        Optional[str], typer.Option(help="Date the demo data is built around (YYYY-MM-DD; default: today, UTC).")
    ] = None,
    recorded: Annotated[
        Optional[str],
        typer.Option(
            help="Serve real recorded Strava responses from this folder (e.g. ../shared/real-strava) "
            "instead of the demo athletes, re-dated to now (refresh token recorded-refresh-26462176)."
        ),
    ] = None,
) -> None:
    """Serve the local Strava-compatible API with the demo athletes until Ctrl-C."""
    from datetime import date

    from pipeline.strava_stub.demo_data import build_world
    from pipeline.strava_stub.server import StubServer

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be a date like 2026-11-26, not {today!r}")
    if recorded is not None:
        from pipeline.strava_stub.recorded import CorpusMissing, recorded_world

        try:
            world = recorded_world(recorded)
        except (CorpusMissing, ValueError, KeyError) as e:
            fail(f"--recorded {recorded}: cannot read the recordings: {e}")
    else:
        world = build_world(day)
    server = StubServer(world, port=port, short_limit=short_limit, daily_limit=daily_limit)
    with _stop_signals() as stop:
        try:
            url = server.start()
        except OSError as e:
            fail(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}")
        out.print(f"Strava-compatible API at {url}\nPoint backstride at it with: export STRAVA_BASE_URL={url}")
        out.file.flush()
        while not stop.wait(3600):
            pass
        server.stop()


@contextlib.contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM, for servers that run until stopped.

    The handlers are installed explicitly, before the server says it is up: a process started
    in the background by a non-interactive shell inherits SIGINT as *ignored*, and Python then
    never raises KeyboardInterrupt, so Ctrl-C (or a test's SIGINT) would not stop the server.
    """
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


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
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8787,
) -> None:
    """Receive Strava's events on /webhook; queue them in the inbox and tell Airflow."""
    import os

    from pipeline import webhooks

    check_text("--host", host)
    s = settings()
    if not s.verify_token:
        err.print("[yellow]warning:[/yellow] STRAVA_VERIFY_TOKEN is not set: Strava's handshake will be refused")
    if not webhooks.read_subscription_ids(s, os.environ):
        err.print(
            "[yellow]warning:[/yellow] no subscription id known yet: events are refused (403) until "
            "`backstride webhook subscribe` runs or STRAVA_SUBSCRIPTION_ID is set"
        )
    try:
        app = webhooks.create_app(s, os.environ)
    except ValueError as e:  # a bad STRAVA_SUBSCRIPTION_ID
        fail(str(e))
    out.print(
        f"receiving Strava events on http://{host}:{port}{webhooks.WEBHOOK_PATH}; inbox {s.inbox_dir}", markup=False
    )
    webhooks.serve(s, os.environ, host=host, port=port, app=app)


@webhook_app.command("subscribe")
def webhook_subscribe(
    callback_url: Annotated[
        str, typer.Option("--callback-url", help="Public URL of `webhook serve`, ending in /webhook.")
    ],
) -> None:
    """Create the application's push subscription (Strava calls the receiver to check it first)."""
    from pipeline import webhooks

    check_http_url("--callback-url", callback_url)
    s = settings()
    try:
        sub = webhooks.subscribe(s, callback_url)
    except Exception as e:  # stravalib raises several types; show the message, not a traceback
        fail(f"could not subscribe: {explain(e)}")
    out.print(f"subscribed: id {sub.id}, callback {sub.callback_url or callback_url}", markup=False)


@webhook_app.command("list")
def webhook_list() -> None:
    """Show the application's push subscriptions."""
    from pipeline import webhooks

    s = settings()
    try:
        subs = webhooks.list_subscriptions(s)
    except ValueError as e:  # missing application credentials
        fail(f"could not list subscriptions: {e}")
    except Exception as e:
        fail(f"could not list subscriptions: {type(e).__name__}")
    if not subs:
        out.print("no subscription")
    for sub in subs:
        out.print(f"{sub.id}\t{sub.callback_url}\t{sub.created_at or ''}", markup=False, highlight=False)


@webhook_app.command("unsubscribe")
def webhook_unsubscribe(
    subscription_id: Annotated[int, typer.Argument(help="Id from `webhook list`.", min=1, max=MAX_ID)],
) -> None:
    """Delete a push subscription; the receiver stops accepting its events."""
    from pipeline import webhooks

    s = settings()
    try:
        webhooks.unsubscribe(s, subscription_id)
    except Exception as e:
        fail(f"could not unsubscribe: {explain(e)}")
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
    import re

    if value is None:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # fromisoformat also takes 20261116 and 2026-W47-1
            raise ValueError(value)
        week = datetime.date.fromisoformat(value)
    except ValueError:
        fail(f"--week must be a date like 2026-11-16, not {shown(value)}")
    if week.weekday() != 0:
        fail(f"--week must be a Monday; {week.isoformat()} is a {week:%A}")
    today = datetime.datetime.now(datetime.UTC).date()
    if week < datetime.date(2000, 1, 3) or week > today + datetime.timedelta(days=1):
        fail(f"--week must be a Monday between 2000-01-03 and this week, not {week.isoformat()}")
    return week


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

    monday, s = _parse_week(week), settings()  # outside the try: their typer.Exit is a RuntimeError
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


@athletes_app.command("set")
def athletes_set(
    athlete_id: Annotated[int, athlete_id_argument()],
    digest: Annotated[
        Optional[str], typer.Option("--digest", help="on | off: whether this runner gets the weekly email.")
    ] = None,
) -> None:
    """Change an athlete's settings (for now: the weekly digest on or off)."""
    from pipeline.digest import set_digest_enabled

    if digest is None:
        fail("nothing to set: pass --digest on|off")
    if digest.lower() not in ("on", "off"):
        fail(f"--digest must be on or off, not {shown(digest)}")
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
    athlete: Annotated[Optional[int], athlete_id_option("Also show this athlete's own values.")] = None,
) -> None:
    """Every rule parameter with its default, unit and evidence grade (sql/seeds/rule_thresholds.csv)."""
    from pipeline.models import threshold_table

    columns, rows = threshold_table(settings(), athlete)
    print_rows(columns, rows, title="Rule thresholds")


@thresholds_app.command("set")
def thresholds_set(
    athlete_id: Annotated[int, athlete_id_argument()],
    rule_id: Annotated[str, typer.Argument(help="For example shoes.mileage.")],
    param: Annotated[str, typer.Argument(help="For example warning_km.")],
    value: Annotated[float, typer.Argument(help="The athlete's own value, in the parameter's unit.")],
) -> None:
    """Give one athlete their own value for a rule parameter (applies from the next build).

    The value must mean something in the parameter's unit (`thresholds list`): a share is
    0 to 1, a ratio above 0, days a whole number from 1; NaN and infinity are refused (exit 2).
    """
    from pipeline.models import ThresholdValueError, save_override

    s = settings()
    try:
        default = save_override(s, athlete_id, rule_id, param, value)
    except KeyError as e:
        fail(str(e.args[0]))
    except ThresholdValueError as e:
        fail(str(e), 2)
    out.print(f"athlete {athlete_id}: {rule_id}.{param} = {value:g} (default {default:g}); run `backstride build`")


@thresholds_app.command("unset")
def thresholds_unset(
    athlete_id: Annotated[int, athlete_id_argument()],
    rule_id: Annotated[str, typer.Argument(help="For example shoes.mileage.")],
    param: Annotated[str, typer.Argument(help="For example warning_km.")],
) -> None:
    """Remove an athlete's own value: the default applies again from the next build."""
    from pipeline.models import remove_override

    s = settings()
    try:
        removed = remove_override(s, athlete_id, rule_id, param)
    except KeyError as e:
        fail(str(e.args[0]))
    if not removed:
        fail(f"athlete {athlete_id} has no override for {rule_id}.{param}")  # a known name: plain text
    out.print(f"athlete {athlete_id}: {rule_id}.{param} back to the default; run `backstride build`")


def _guard_every_command() -> None:
    """Wrap every registered command in the safety net (`_guarded`), once, at import."""
    for group in (app, auth_app, athletes_app, webhook_app, thresholds_app):
        for info in group.registered_commands:
            if info.callback is not None and not getattr(info.callback, "_guarded", False):
                info.callback = _guarded(info.callback)
                info.callback._guarded = True  # type: ignore[attr-defined]


_guard_every_command()


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
