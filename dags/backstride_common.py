"""What every backstride DAG shares: assets, default arguments, settings from connections.

Kept light for parsing: only `airflow.sdk`, `pendulum` and the asset names of
`pipeline.webhooks.assets` are imported at module level. Connections and Variables are read
inside tasks, by `backstride_settings()`, never at parse time.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.sdk import Asset

from pipeline.webhooks.assets import WEBHOOK_ASSET_NAME, WEBHOOK_ASSET_URI

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.config import Settings

log = logging.getLogger(__name__)

OWNER = "backstride"
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")

# The receiver records events on this asset; strava_events and strava_sync are scheduled on it.
WEBHOOK_EVENTS = Asset(name=WEBHOOK_ASSET_NAME, uri=WEBHOOK_ASSET_URI, group="strava")
# Updated by strava_sync and strava_events; warehouse_build is scheduled on it.
ACTIVITIES = Asset(name="warehouse_activities", uri="backstride://warehouse/activities", group="warehouse")
# Updated by warehouse_build: the risk models the digest reads.
MODELS = Asset(name="warehouse_models", uri="backstride://warehouse/models", group="warehouse")

# Pools (create them with `airflow pools set`, see scripts/airflow-standalone):
STRAVA_POOL = "strava_api"  # 1 slot: one task at a time spends the application's rate limit
WRITER_POOL = "duckdb_writer"  # 1 slot: one task at a time writes the warehouse

STRAVA_CONN_ID = "strava_default"
SMTP_CONN_ID = "smtp_default"
HOME_VARIABLE = "backstride_home"
OPERATOR_EMAIL_VARIABLE = "backstride_operator_email"
ALERT_FROM = "backstride <airflow@backstride.local>"  # when smtp_default has no extra.from_email

# Environment variables passed through to `load_settings` (besides what connections give).
_PASSTHROUGH = (
    "BACKSTRIDE_HOME",
    "BACKSTRIDE_MAIL_FROM",
    "BACKSTRIDE_LOOKBACK_WEEKS",
    "STRAVA_BASE_URL",
    "STRAVA_CLIENT_ID",
    "STRAVA_CLIENT_SECRET",
    "STRAVA_VERIFY_TOKEN",
)


def notify_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: log the failure and, when SMTP and an operator address are set, email it.

    The email goes through the SMTP provider's `SmtpNotifier` on `smtp_default`. Whatever
    happens to the alert, the task's own failure is what Airflow reports.
    """
    ti = context.get("task_instance") or context.get("ti")
    dag_id, task_id, run_id = (getattr(ti, name, "?") for name in ("dag_id", "task_id", "run_id"))
    error = context.get("exception")
    summary = f"backstride: {dag_id}.{task_id} failed in run {run_id}: {type(error).__name__ if error else 'error'}"
    log.error("%s (%s)", summary, error)
    try:
        _email_operator(
            context, summary, f"Error: {error}\n\nSee the task log in the Airflow UI (DAG {dag_id}, run {run_id})."
        )
    except Exception as err:  # a failing alert must not hide the original failure
        log.warning("could not email the operator: %s", type(err).__name__)


def _email_operator(context: dict[str, Any], summary: str, details: str) -> None:
    """Send the alert with `SmtpNotifier`, or do nothing without an operator address or `smtp_default`."""
    from airflow.sdk import Variable

    to = Variable.get(OPERATOR_EMAIL_VARIABLE, default=None) or os.environ.get("BACKSTRIDE_OPERATOR_EMAIL")
    conn = _connection(SMTP_CONN_ID)
    if not to or conn is None:
        return
    import html

    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from pipeline.tokens import redact

    secrets = _secret_values(conn)
    body = html.escape(redact(summary + "\n\n" + details, secrets))
    notifier = SmtpNotifier(
        to=to,
        from_email=(conn.extra_dejson or {}).get("from_email") or ALERT_FROM,
        subject=redact(summary, secrets),
        html_content=f"<pre>{body}</pre>",
        smtp_conn_id=SMTP_CONN_ID,
    )
    notifier.notify(context)  # notify(), not __call__: no Jinja rendering of the error text


def _secret_values(smtp: Any) -> list[str]:
    """What an alert must never show: the connections' passwords and the athletes' tokens."""
    from pipeline.tokens import known_secrets

    strava = _connection(STRAVA_CONN_ID)
    secrets = [p for p in (getattr(strava, "password", None), smtp.password) if p]
    try:
        secrets += known_secrets(backstride_settings())
    except Exception as err:  # unreadable settings: still hide the connections' passwords
        log.warning("could not read the athletes' tokens to redact the alert: %s", type(err).__name__)
    return secrets


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": notify_failure,
}


def _connection(conn_id: str) -> Any | None:
    """The connection, or None when it is not defined (only call inside tasks)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return Connection.get(conn_id)
    except AirflowNotFoundException:
        return None


def strava_base_url(conn: Any) -> str | None:
    """`extra.base_url`, else a host that is already a URL, else https://host[:port]."""
    extra = conn.extra_dejson or {}
    if extra.get("base_url"):
        return str(extra["base_url"]).rstrip("/")
    host = conn.host or ""
    if host.startswith(("http://", "https://")):
        return host.rstrip("/")
    if host:
        scheme = conn.schema if conn.schema in ("http", "https") else "https"
        return f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    return None


def settings_env() -> dict[str, str]:
    """The env mapping for `load_settings`, from connections, the Variable and the environment."""
    from airflow.sdk import Variable

    env = {k: v for k, v in os.environ.items() if k in _PASSTHROUGH}
    home = Variable.get(HOME_VARIABLE, default=None)
    if home:
        env["BACKSTRIDE_HOME"] = home
    strava = _connection(STRAVA_CONN_ID)
    if strava is not None:
        if strava.login:
            env["STRAVA_CLIENT_ID"] = str(strava.login)
        if strava.password:
            env["STRAVA_CLIENT_SECRET"] = strava.password
        base = strava_base_url(strava)
        if base:
            env["STRAVA_BASE_URL"] = base
    smtp = _connection(SMTP_CONN_ID)
    if smtp is not None and (smtp.extra_dejson or {}).get("from_email"):
        env["BACKSTRIDE_MAIL_FROM"] = smtp.extra_dejson["from_email"]
    return env


def backstride_settings() -> Settings:
    """Settings for a task run (inside tasks only: reads connections and a Variable)."""
    from pipeline.config import load_settings

    return load_settings(settings_env())


def mail_transport(settings: Settings) -> Any:
    """SMTP through `smtp_default` when defined, else the outbox under BACKSTRIDE_HOME."""
    from pipeline.digest.mailer import OutboxTransport, SmtpConfig, SmtpTransport

    conn = _connection(SMTP_CONN_ID)
    if conn is None:
        return OutboxTransport(settings.outbox_dir)
    return SmtpTransport(SmtpConfig.from_airflow_connection(conn))


def owners_from_events(triggering_asset_events: Any) -> list[int]:
    """Athlete ids the receiver put in the asset events that triggered this run (empty if timed)."""
    owners: set[int] = set()
    if not triggering_asset_events:
        return []
    for events in triggering_asset_events.values():
        for event in events:
            for owner in (getattr(event, "extra", None) or {}).get("owner_ids", []):
                owners.add(int(owner))
    return sorted(owners)


def digest_readiness(settings: Settings, week_start: str) -> tuple[list[int], list[int]]:
    """Athletes with digests on, split into (synced since their week ended, not yet).

    A digest is sent once per week and never again, so it must not go out on data that
    stops before Sunday night: an athlete is ready when a sync finished after the end of
    the week in their own time zone. Call it under the sync lock, right after the build.
    """
    from pipeline.warehouse import connect_reader

    con = connect_reader(settings)
    try:
        rows = con.execute(
            """select a.athlete_id,
                      coalesce(s.last_sync_at >= timezone(coalesce(a.timezone, 'UTC'),
                                                          (cast(? as date) + 7)::timestamp), false) as ready
               from athletes a left join sync_state s using (athlete_id)
               where a.digest_enabled
               order by a.athlete_id""",
            [week_start],
        ).fetchall()
    finally:
        con.close()
    return [a for a, ok in rows if ok], [a for a, ok in rows if not ok]
