"""`backstride strava-stub` and `backstride demo`: the local Strava-compatible API, and the offline demo."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Annotated, Optional

import typer

from pipeline.cli.app import app, fail, out, settings


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
    from pipeline.strava_stub.server import StubServer

    world = _world(today, recorded)
    server = StubServer(world, port=port, short_limit=short_limit, daily_limit=daily_limit)
    with stop_signals() as stop:
        try:
            url = server.start()
        except OSError as e:
            fail(f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}")
        out.print(f"Strava-compatible API at {url}\nPoint backstride at it with: export STRAVA_BASE_URL={url}")
        out.file.flush()
        while not stop.wait(3600):
            pass
        server.stop()


def _world(today: Optional[str], recorded: Optional[str]):  # type: ignore[no-untyped-def]
    """The world the stub serves: the recorded corpus, or the demo athletes built around `today`."""
    from datetime import date

    from pipeline.strava_stub.demo_data import build_world

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today must be a date like 2026-11-26, not {today!r}")
    if recorded is None:
        return build_world(day)
    from pipeline.strava_stub.recorded import CorpusMissing, recorded_world

    try:
        return recorded_world(recorded)
    except (CorpusMissing, ValueError, KeyError) as e:
        fail(f"--recorded {recorded}: cannot read the recordings: {e}")


@contextlib.contextmanager
def stop_signals() -> Iterator[threading.Event]:
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
