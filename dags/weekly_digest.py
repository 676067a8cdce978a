"""
### weekly_digest: email each runner their week, exactly once

Every Monday at 12:00 UTC (by then Sunday is over in every time zone) it waits for a running
sync to finish, rebuilds the models and sends each athlete the digest of **the last complete
week** (Monday to Sunday before the run). `digest_log` records what was sent, so a retry, a
re-run or a manual trigger never sends the same week twice. An athlete not synced since their
week ended gets no digest yet (it would miss the weekend's runs): the run fails and alerts the
operator; clear it once `strava_sync` has caught up. Likewise an athlete whose last sync failed
(error, needs_reauth) or was deferred before it listed the whole week is held: no email, nothing
recorded, the run fails with the reason. A week whose runs still wait for details or streams is
sent, saying which factors it could not judge.

- Mail: connection `smtp_default` when defined (extras `disable_ssl` / `disable_tls` for a
  plain local server, `from_email` for the sender); without it the digests are written to the
  outbox under `BACKSTRIDE_HOME`.
- Pool `duckdb_writer` (1 slot) for both tasks.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, get_current_context, task
from backstride_common import DEFAULT_ARGS, START_DATE, WRITER_POOL


@task(pool=WRITER_POOL)
def build_models() -> dict[str, Any]:
    """
    #### Build the models
    Waits for a running sync to finish (the sync lock), rebuilds the models, and lists which
    athletes were synced after their week ended. Returns the week and that split.
    """
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from backstride_common import backstride_settings, digest_readiness

    from pipeline.build import run_build
    from pipeline.sync import sync_lock
    from pipeline.weekly import last_complete_week

    settings = backstride_settings()
    context = get_current_context()
    when = context.get("logical_date") or context["dag_run"].run_after
    week = last_complete_week(when.date()).isoformat()
    with sync_lock(settings, wait_s=3600):
        run_build(settings)
        ready, waiting = digest_readiness(settings, week)
    return {"week": week, "ready": ready, "waiting": waiting}


@task(pool=WRITER_POOL)
def send_digests(plan: dict[str, Any]) -> dict[str, Any]:
    """
    #### Send the digests
    One email per ready athlete; already-sent weeks are skipped. Athletes not synced since
    their week ended, or whose last sync failed or had not listed the week (held), get
    nothing yet and the task fails without retrying (the operator is alerted): clear the run
    once a sync has caught up. Failed emails are retried with backoff; sent ones are never
    re-sent.
    """
    import datetime as dt

    from airflow.sdk.exceptions import AirflowFailException
    from backstride_common import backstride_settings, mail_transport

    from pipeline import digest
    from pipeline.weekly import week_outcome

    settings = backstride_settings()
    week = dt.date.fromisoformat(plan["week"])
    transport = mail_transport(settings)
    results = []
    try:
        for athlete_id in plan["ready"]:
            results += digest.send_digests(settings, week=week, athlete_id=athlete_id, transport=transport).results
    finally:
        transport.close()
    outcome = week_outcome(results, plan["waiting"])
    print(f"week of {plan['week']}: {outcome.counts}")
    for r in results:
        if r.status == "held" or r.gaps:
            print(r)
    if outcome.counts["failed"]:
        raise RuntimeError(f"{outcome.counts['failed']} digests failed; the retry sends only those")
    if outcome.problems:
        raise AirflowFailException("no digest sent to them yet: " + "; ".join(outcome.problems))
    return {"week": plan["week"], **outcome.counts}


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
    send_digests(build_models())


weekly_digest()
