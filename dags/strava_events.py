"""
### strava_events: apply Strava's webhook events to the warehouse

Scheduled on the `strava_webhook_events` asset, which `backstride webhook serve` updates
through Airflow's REST API after it queued events in its inbox; an hourly run also sweeps the
inbox in case Airflow was down when events arrived (an empty inbox costs nothing).

For each new event, once and in event-time order (duplicates and out-of-order deliveries are
harmless): a created or updated activity is fetched, a deleted one is deleted, and a
deauthorization (`authorized: "false"`) deletes **every row and token of that athlete**, as
the Strava API Agreement requires. Fetches that hit the rate limit wait in the sync queue
(`strava_sync` takes them); fetches that fail go back to the inbox for the next run.

- Pool `strava_api` (1 slot); output asset `warehouse_activities` (schedules `warehouse_build`).
- The same work without Airflow: `backstride webhook process`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from backstride_common import ACTIVITIES, DEFAULT_ARGS, START_DATE, STRAVA_POOL, WEBHOOK_EVENTS


@dag(
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("17 * * * *", timezone="UTC"), assets=WEBHOOK_EVENTS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["backstride", "strava", "webhooks"],
)
def strava_events() -> None:
    @task(pool=STRAVA_POOL, outlets=[ACTIVITIES])
    def process_events() -> dict[str, Any]:
        """
        #### Process the event inbox
        Skipped, so no asset event and no build, when the inbox is empty or its events changed
        nothing (duplicates, unknown athletes). Fails, and retries with backoff, when events were
        waiting and none could be processed.
        """
        from airflow.sdk.exceptions import AirflowSkipException
        from backstride_common import backstride_settings

        from pipeline.webhooks.inbox import Inbox
        from pipeline.webhooks.process import process_inbox

        settings = backstride_settings()
        if not Inbox(settings.inbox_dir).has_events():
            raise AirflowSkipException("the event inbox is empty")
        report = process_inbox(settings)
        for message in report.errors:
            print(f"event error: {message}")
        if report.received and not report.processed and (report.requeued or report.failed):
            raise RuntimeError(f"none of {report.received} events could be processed; they wait in the inbox")
        if not (report.fetched or report.deleted or report.athletes_removed):
            raise AirflowSkipException(f"{report.received} events, nothing changed in the warehouse")
        return {
            "received": report.received,
            "fetched": report.fetched,
            "queued": report.queued,
            "deleted": report.deleted,
            "athletes_removed": report.athletes_removed,
            "duplicates": report.duplicates,
            "requeued": report.requeued,
            "failed": report.failed,
        }

    process_events()


strava_events()
