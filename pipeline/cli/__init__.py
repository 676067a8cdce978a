"""The `backstride` command line. Only this package knows about the command line.

Each command parses its options, calls one function of the pipeline package and prints
the result. One module per command group:

- `app`: the root Typer app, consoles, settings, `fail`, tables; `checks`: option checks;
  `guard`: the safety net that turns an unexpected exception into one line.
- `auth`, `athletes`, `sync`, `sql`, `build` (build and run), `stub` (strava-stub and demo),
  `validate`, `digest`, `status`, `maintain`, `webhooks`, `thresholds`.

A new top-level command gets its own module, imported below in the order `--help` lists it;
a new group adds its Typer with `app.add_typer` next to the others. Commands import heavy
libraries inside their functions, so `backstride --help` stays fast.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands; this order is the order of `--help`.
# isort: off
from pipeline.cli import sync as _sync  # noqa: F401
from pipeline.cli import sql as _sql  # noqa: F401
from pipeline.cli import build as _build  # noqa: F401
from pipeline.cli import stub as _stub  # noqa: F401
from pipeline.cli import validate as _validate  # noqa: F401
from pipeline.cli import digest as _digest  # noqa: F401
from pipeline.cli import status as _status  # noqa: F401
from pipeline.cli import maintain as _maintain  # noqa: F401

# isort: on
from pipeline.cli.app import app
from pipeline.cli.athletes import athletes_app
from pipeline.cli.auth import auth_app
from pipeline.cli.guard import guard_every_command
from pipeline.cli.thresholds import thresholds_app
from pipeline.cli.webhooks import webhook_app

__all__ = ["app", "main"]

app.add_typer(auth_app, name="auth")
app.add_typer(athletes_app, name="athletes")
app.add_typer(webhook_app, name="webhook")
app.add_typer(thresholds_app, name="thresholds")
guard_every_command(app, auth_app, athletes_app, webhook_app, thresholds_app)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
