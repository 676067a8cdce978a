"""The warehouse side of webhook events: which were processed (`webhook_events`), and which
athletes named in events still have sync work left."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pipeline.config import Settings
from pipeline.upsert import insert_missing_rows
from pipeline.webhooks.events import WebhookEvent

if TYPE_CHECKING:  # pragma: no cover
    pass


def known_state(settings: Settings, events: list[WebhookEvent]) -> tuple[set[str], set[int], set[int]]:
    """Already-processed keys, activities already deleted, and registered athletes."""
    from pipeline.warehouse import writer

    keys = [e.dedupe_key for e in events]
    activity_ids = [e.object_id for e in events if e.object_type == "activity"]
    with writer(settings) as con:
        done = {
            r[0]
            for r in con.execute(
                "select dedupe_key from webhook_events where list_contains(?, dedupe_key)",
                [keys],
            ).fetchall()
        }
        deleted = {
            r[0]
            for r in con.execute(
                """select object_id from webhook_events
                   where object_type = 'activity' and aspect_type = 'delete' and list_contains(?, object_id)
                   union select activity_id from deleted_activities where list_contains(?, activity_id)""",
                [activity_ids, activity_ids],
            ).fetchall()
        }
        athletes = {r[0] for r in con.execute("select athlete_id from athletes").fetchall()}
    token_dir = settings.secrets_dir / "tokens"  # registered but not synced yet
    if token_dir.exists():
        athletes.update(int(p.stem) for p in token_dir.glob("*.json") if p.stem.isdigit())
    return done, deleted, athletes


EVENT_COLUMNS = (
    "dedupe_key",
    "athlete_id",
    "object_type",
    "object_id",
    "aspect_type",
    "event_time",
    "updates",
    "subscription_id",
    "outcome",
)


def record_outcomes(settings: Settings, rows: list[tuple[WebhookEvent, str]]) -> None:
    """Remember each processed event and what became of it, so a redelivery is a duplicate."""
    if not rows:
        return
    from pipeline.warehouse import writer

    with writer(settings) as con:
        insert_missing_rows(
            con,
            "webhook_events",
            EVENT_COLUMNS,
            [
                (
                    e.dedupe_key, e.owner_id, e.object_type, e.object_id, e.aspect_type,
                    e.event_time, json.dumps(e.updates), e.subscription_id, outcome,
                )
                for e, outcome in rows
            ],
        )  # fmt: skip


def purge_deleted_rows(settings: Settings) -> None:
    """Rewrite the warehouse so a removed athlete leaves no bytes behind (see `maintenance.purge`)."""
    from pipeline.maintenance import purge

    purge(settings)


def athletes_needing_sync(settings: Settings, owner_ids: Iterable[int]) -> list[int]:
    """Of the athletes named in recent events, those whose sync has work left.

    That is: never synced, stopped early (deferred or error), or with detail/stream fetches
    queued (for example by a webhook fetch that hit the rate limit). Athletes whose sync is
    complete are left alone: polling them would spend requests on nothing new.
    """
    from pipeline.warehouse import connect_reader

    owners = sorted({int(o) for o in owner_ids})
    if not owners or not settings.warehouse_exists():
        return []
    con = connect_reader(settings)
    try:
        rows = con.execute(
            """select a.athlete_id from athletes a
               left join sync_state s using (athlete_id)
               where list_contains(?, a.athlete_id)
                 and (s.athlete_id is null or s.last_status in ('deferred', 'error')
                      or exists (select 1 from fetch_queue q where q.athlete_id = a.athlete_id))
               order by a.athlete_id""",
            [owners],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]
