"""`backstride webhook`: receive Strava's push events, manage the subscription, replay the inbox."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline.cli.app import err, fail, out, settings
from pipeline.cli.checks import MAX_ID, check_http_url, check_text
from pipeline.cli.guard import explain

webhook_app = typer.Typer(help="Receive and manage Strava webhook events.", no_args_is_help=True)


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
        receiver = webhooks.create_app(s, os.environ)
    except ValueError as e:  # a bad STRAVA_SUBSCRIPTION_ID
        fail(str(e))
    out.print(
        f"receiving Strava events on http://{host}:{port}{webhooks.WEBHOOK_PATH}; inbox {s.inbox_dir}", markup=False
    )
    webhooks.serve(s, os.environ, host=host, port=port, app=receiver)


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
