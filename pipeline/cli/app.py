"""The root `backstride` Typer app and what every command shares: consoles, settings, errors, tables."""

from __future__ import annotations

import sys

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


def one_line(message: str) -> str:
    """A multi-line message (DuckDB's errors end in a LINE 1: and a caret line) as one line."""
    lines = [line.strip() for line in message.splitlines()]
    return " ".join(line for line in lines if line and set(line) != {"^"})


def fail(message: str, code: int = 1) -> None:
    """One line on stderr (the message is shown literally, never as markup), then exit `code`."""
    err.print(f"[red]error:[/red] {escape(one_line(message))}", highlight=False, markup=True)
    raise typer.Exit(code)


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
