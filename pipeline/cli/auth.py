"""`backstride auth`: connect a runner's Strava account (OAuth URL, code exchange)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.app import fail, out, settings
from pipeline.cli.athletes import add_athlete
from pipeline.cli.checks import check_http_url

auth_app = typer.Typer(help="Connect a runner's Strava account (OAuth).", no_args_is_help=True)


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
    add_athlete("CODE", code, email, timezone, is_code=True)
