"""The `backstride` command line. Only this module knows about the command line.

Each command parses its options, calls one function of the pipeline package and prints
the result. Sections are grouped per stage; keep new commands in their stage's section.
"""

from __future__ import annotations

import sys
from pathlib import Path
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

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def settings() -> Settings:
    try:
        return load_settings()
    except ValueError as e:
        fail(str(e))
        raise  # unreachable


def fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


# --- ingestion: auth, athletes, sync, sql, strava-stub, demo --------------------------
# (commands are added below this line)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
