"""
### weekly_digest: email each runner their week, exactly once

Every Monday at 12:00 UTC (by then Sunday is over in every time zone) it rebuilds the models
and sends each athlete the digest of **the last complete week** (Monday to Sunday before the
run). `digest_log` records what was sent, so a retry, a re-run or a manual trigger never sends
the same week twice.

- Mail: connection `smtp_default` when defined (extras `disable_ssl` / `disable_tls` for a
  plain local server, `from_email` for the sender); without it the digests are written to the
  outbox under `BACKSTRIDE_HOME`.
- Pool `duckdb_writer` (1 slot) for both tasks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task
from backstride_common import DEFAULT_ARGS, START_DATE, WRITER_POOL


@dag(
    schedule=CronTriggerTimetable("0 12 * * 1", timezone="UTC"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["backstride", "digest", "email"],
)
def weekly_digest() -> None:
    @task(pool=WRITER_POOL)
    def build_models() -> str:
        """
        #### Build the models
        So the digest reads this morning's data. Returns the Monday of the week to send.
        """
        import os

        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        from backstride_common import backstride_settings

        from pipeline.build import run_build

        run_build(backstride_settings())
        context = get_current_context()
        when = context.get("logical_date") or context["dag_run"].run_after
        day = when.date()
        return (day - timedelta(days=day.weekday() + 7)).isoformat()

    @task(pool=WRITER_POOL)
    def send_digests(week: str) -> dict[str, Any]:
        """
        #### Send the digests
        One email per athlete with digests enabled; already-sent weeks are skipped. Fails (and
        retries with backoff) when any athlete's email failed; sent ones are not re-sent.
        """
        import datetime as dt

        from backstride_common import backstride_settings, mail_transport

        from pipeline import digest

        settings = backstride_settings()
        transport = mail_transport(settings)
        try:
            report = digest.send_digests(settings, week=dt.date.fromisoformat(week), transport=transport)
        finally:
            transport.close()
        counts = {s: report.count(s) for s in ("sent", "skipped_already_sent", "disabled", "failed")}
        print(f"week of {week}: {counts}")
        if not report.ok:
            raise RuntimeError(f"{counts['failed']} digests failed; the retry sends only those")
        return {"week": week, **counts}

    send_digests(build_models())


weekly_digest()
