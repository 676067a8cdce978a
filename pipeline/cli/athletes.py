"""`backstride athletes`: register, list, change and remove athletes."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from pipeline.cli.app import fail, out, print_rows, settings
from pipeline.cli.checks import athlete_id_argument, check_email, check_text, check_timezone, shown

athletes_app = typer.Typer(help="Register, list and remove athletes.", no_args_is_help=True)

NO_ATHLETES = "no athletes yet: add one with `backstride athletes add` or `backstride auth exchange`"


@athletes_app.command("add")
def athletes_add(
    refresh_token: Annotated[
        str, typer.Option(help="The athlete's Strava refresh token (stored owner-only, never shown).")
    ],
    email: Annotated[str, typer.Option(help="Where to send this runner's weekly digest.")],
    timezone: Annotated[Optional[str], typer.Option(help="IANA zone, e.g. Europe/London (default: Strava's).")] = None,
) -> None:
    """Register an athlete: refresh the token, read the profile and shoes, save the tokens."""
    add_athlete("--refresh-token", refresh_token, email, timezone)


def add_athlete(secret_label: str, secret: str, email: str, timezone: str | None, *, is_code: bool = False) -> None:
    """Check the options, register the athlete and say who was added; a Strava refusal ends the command.

    `secret` is a refresh token, or with `is_code` an OAuth authorisation code traded for tokens first.
    """
    from pipeline.athletes import register_athlete
    from pipeline.strava_client import StravaError, exchange_code

    check_text(secret_label, secret)
    check_email(email)
    check_timezone(timezone)
    s = settings()
    try:
        tokens = exchange_code(s, secret)[0] if is_code else None
        refresh_token = tokens.refresh_token if tokens else secret
        athlete_id, name = register_athlete(s, refresh_token, email, timezone, tokens=tokens)
    except StravaError as e:
        fail(str(e))
    next_step = f"; run `backstride sync --athlete {athlete_id}` next" if is_code else ""
    out.print(f"added athlete {athlete_id} ({name}){next_step}", markup=False, highlight=False)


@athletes_app.command("list")
def athletes_list() -> None:
    """List registered athletes with their last sync."""
    from pipeline.query import run_query

    s = settings()
    if not s.warehouse_exists():
        out.print(NO_ATHLETES)
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
        out.print(NO_ATHLETES)
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
