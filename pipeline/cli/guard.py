"""The safety net of every command: an unexpected exception becomes one redacted line and exit 1."""

from __future__ import annotations

import functools
from typing import Any

import click
import typer

from pipeline.cli.app import fail
from pipeline.config import load_settings


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


def guarded(command: Any) -> Any:
    """`command` wrapped so an exception it did not expect ends in one line and exit 1."""

    @functools.wraps(command)
    def run_command(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as e:
            fail(explain(e))

    return run_command


def guard_every_command(*groups: typer.Typer) -> None:
    """Wrap every command registered in `groups` in the safety net, once."""
    for group in groups:
        for info in group.registered_commands:
            if info.callback is not None and not getattr(info.callback, "_guarded", False):
                info.callback = guarded(info.callback)
                info.callback._guarded = True  # type: ignore[attr-defined]
