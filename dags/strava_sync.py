"""
### strava_sync: pull new activities from Strava into the warehouse

A safety net next to the webhook events: every day at 10:00 UTC it syncs **every registered
athlete** (one list request per athlete with nothing new; details and streams for new runs).
It also runs when the webhook asset gets new events, and then syncs only the athletes named
in those events whose sync has work left (deferred by the rate limit, an error, or fetches
queued by `strava_events`), so it never polls what has not changed.

- Rate limit: the task runs in the `strava_api` pool (1 slot), so no two tasks spend the same
  application limit; when the budget is spent the athlete is reported *deferred* and the next
  run resumes where this one stopped.
- Output: the `warehouse_activities` asset, which schedules `warehouse_build`.
- Credentials: Airflow connection `strava_default` (login = client id, password = client
  secret, host or extra `base_url` = the Strava-compatible server); `BACKSTRIDE_HOME` from the
  Variable `backstride_home` or the environment.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task
from backstride_common import ACTIVITIES, DEFAULT_ARGS, START_DATE, STRAVA_POOL, WEBHOOK_EVENTS


@dag(
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 10 * * *", timezone="UTC"), assets=WEBHOOK_EVENTS),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["backstride", "strava", "ingest"],
)
def strava_sync() -> None:
    @task(pool=STRAVA_POOL, outlets=[ACTIVITIES])
    def sync_athletes(triggering_asset_events: Any = None) -> dict[str, Any]:
        """
        #### Sync athletes
        Timed run: every registered athlete. Event-triggered run: only the athletes from the
        events whose sync has work left. Fails (and retries with backoff) only when every
        athlete failed; a deferred athlete is normal and resumes next run.
        """
        from airflow.sdk.exceptions import AirflowSkipException
        from backstride_common import backstride_settings, owners_from_events

        from pipeline.sync.run import sync_all
        from pipeline.webhooks import athletes_needing_sync

        settings = backstride_settings()
        owners = owners_from_events(triggering_asset_events)
        if owners:
            todo = athletes_needing_sync(settings, owners)
            if not todo:
                raise AirflowSkipException(f"the syncs of athletes {owners} have no work left")
            results = [r for a in todo for r in sync_all(settings, athlete_id=a)]
        else:
            results = sync_all(settings)
        for r in results:
            print(r.summary())
        statuses = [r.status for r in results]
        if statuses and all(s == "error" for s in statuses):
            raise RuntimeError(f"every athlete's sync failed ({len(statuses)}); see the log above")
        return {
            "athletes": len(results),
            "new_activities": sum(r.new_activities for r in results),
            "requests": sum(r.requests for r in results),
            "statuses": {s: statuses.count(s) for s in sorted(set(statuses))},
        }

    sync_athletes()


strava_sync()
