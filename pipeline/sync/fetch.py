"""The Strava calls of one athlete's sync: list activities, then work through the fetch queue.

Everything fetched is collected in a `Fetched` (payloads as they came, queue changes, paging
position); nothing here writes the warehouse. When the budget is spent, Strava answers 429 or
the athlete's turn is over, `Partial` carries what was fetched so far.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from pipeline.loading import LandingItem
from pipeline.strava_client import Api, AuthRevoked, Deferred, MalformedPayload, StravaError
from pipeline.sync.plan import Plan, State, Window, epoch, fetch_order, listing_window, queue_work, signature
from pipeline.sync.records import Fetched, Item, Partial, SyncResult, TurnOver

log = logging.getLogger(__name__)

PAGE_SIZE = 200
STREAM_KEYS = "time,distance,velocity_smooth,heartrate,cadence,altitude"
ENDPOINTS = {"detail": "activity_detail", "streams": "streams", "profile": "athlete", "gear": "gear"}


def fetch(api: Api, athlete_id: int, state: State, plan: Plan, result: SyncResult) -> Fetched:
    """All the HTTP work for one athlete; returns what to land and how far it got."""
    got = Fetched(cursor_epoch=state.cursor_epoch)
    window = listing_window(state, plan)
    changed: list[dict] = []
    stopped: Deferred | None = None
    if window is not None:
        stopped = list_activities(api, athlete_id, state, plan, window, got, changed)
    else:
        got.resume_after, got.resume_page, got.resume_before = (
            state.resume_after,
            state.resume_page,
            state.resume_before,
        )
        got.paging_done = state.resume_after is None
    result.new_activities = len(changed)
    queue, got.enqueue = queue_work(athlete_id, state, plan, changed)
    if stopped is not None:
        raise Partial(got, stopped)
    if plan.stage == "rest" or (plan.stage == "all" and queue):
        got.served = True
    for item in fetch_order(queue, plan):
        try:
            check_turn(api, plan)
            fetch_item(api, athlete_id, item, got, result)
        except StravaError as err:
            if isinstance(err, (Deferred, AuthRevoked)):
                raise Partial(got, err) from None
            log.warning("%s %s: fetch failed: %s", item.kind, item.object_id or item.activity_id, err)
            got.failed.add(item.key)
            if item.kind == "gear":  # landed, so that a shoe given up on is not queued again
                got.items.append(LandingItem.malformed("gear", item.object_id, "", str(err)))
    return got


def check_turn(api: Api, plan: Plan) -> None:
    """Raise TurnOver once this turn has spent its request cap."""
    if plan.cap is not None and api.requests >= plan.cap:
        raise TurnOver("turn over")


def list_activities(
    api: Api, athlete_id: int, state: State, plan: Plan, window: Window, got: Fetched, changed: list[dict]
) -> Deferred | None:
    """Page through the activity list from `window`, adding new or edited summaries to `changed`.

    Returns why it stopped early (budget, 429, turn over, a bad page), or None.
    """
    after, page, before = window.after, window.page, window.before
    got.resume_after, got.resume_page, got.resume_before = after, page, before
    newest = state.cursor_epoch or 0
    seen_ids: set[int] = set()
    try:
        while True:
            check_turn(api, plan)
            body = _read_page(api, after, page, before, got)
            oldest_on_page, newest_changed = _scan_page(body, athlete_id, state, plan, seen_ids, changed)
            newest = max(newest, newest_changed)
            page += 1
            got.resume_page = page
            if window.newest_first:  # the cursor may move at once: the newest activities came first
                got.cursor_epoch = max(newest, got.cursor_epoch or 0) or None
            if len(body) < PAGE_SIZE:
                got.paging_done = got.listed = True
                break
            if window.newest_first and plan.stage == "first" and (oldest_on_page or 0) < plan.urgent_start:
                break  # the newest week is listed: older pages are backlog, after every athlete's newest week
    except Deferred as err:
        return err
    if got.paging_done:
        got.cursor_epoch = newest or state.cursor_epoch
    return None


def _read_page(api: Api, after: int, page: int, before: int | None, got: Fetched) -> list:
    """One page of `/athlete/activities`, landed as it came (an empty page is not kept)."""
    params = {"after": after, "page": page, "per_page": PAGE_SIZE}
    if before is not None:
        params["before"] = before
    try:
        body = api.get("/athlete/activities", **params)
    except MalformedPayload as bad:
        got.items.append(LandingItem.malformed("activities_page", "list", bad.raw_text, str(bad)))
        raise Deferred(f"activity list page {page} was not valid JSON; will retry next run") from None
    if body != []:  # an empty page carries nothing worth keeping
        got.items.append(LandingItem.from_text("activities_page", "list", api.last_text))
    if not isinstance(body, list):
        raise Deferred(f"activity list page {page} was not a list; will retry next run")
    return body


def _scan_page(
    body: list, athlete_id: int, state: State, plan: Plan, seen_ids: set[int], changed: list[dict]
) -> tuple[int | None, int]:
    """Add the page's new or edited summaries to `changed`; returns the page's oldest start and
    the newest start among the summaries added."""
    oldest_on_page: int | None = None
    newest = 0
    for summary in body:
        activity_id = summary.get("id") if isinstance(summary, dict) else None
        # ids that are not positive 64-bit integers are quarantined by ingestion
        if not isinstance(activity_id, int) or isinstance(activity_id, bool) or not 0 < activity_id < 2**63:
            log.warning("athlete %s: an activity summary without a numeric id (kept in landing)", athlete_id)
            continue
        start = epoch(summary.get("start_date")) or 0
        oldest_on_page = start if oldest_on_page is None else min(oldest_on_page, start)
        if activity_id in seen_ids:
            continue
        seen_ids.add(activity_id)
        if state.known.get(activity_id) == signature(summary) and not plan.full:
            continue  # re-read through the cursor overlap, unchanged
        changed.append(summary)
        newest = max(newest, start)
    return oldest_on_page, newest


def fetch_item(api: Api, athlete_id: int, item: Item, got: Fetched, result: SyncResult) -> None:
    """One queued fetch; lands the body and records the outcome in `got`."""
    endpoint = ENDPOINTS[item.kind]
    object_id: object = item.object_id if item.kind == "gear" else item.activity_id
    try:
        if item.kind == "detail":
            api.get(f"/activities/{item.activity_id}", include_all_efforts=False)
            result.details += 1
        elif item.kind == "streams":
            api.get(f"/activities/{item.activity_id}/streams", keys=STREAM_KEYS, key_by_type=True)
            result.streams += 1
        elif item.kind == "profile":
            api.get("/athlete")  # its shoes become gear rows; bodies of new ones are queued next time
            object_id = athlete_id
        else:
            api.get(f"/gear/{quote(str(item.object_id), safe='')}")
            result.gear += 1
        got.items.append(LandingItem.from_text(endpoint, object_id, api.last_text))
        got.dequeue.add(item.key)
    except MalformedPayload as bad:
        got.items.append(LandingItem.malformed(endpoint, object_id, bad.raw_text, str(bad)))
        log.warning("%s %s: body was not valid JSON; kept in landing", item.kind, object_id)
        got.failed.add(item.key)
    except Exception as err:
        if type(err).__name__ != "ObjectNotFound":  # stravalib's 404
            raise
        _gone(item, object_id, got, result)


def _gone(item: Item, object_id: object, got: Fetched, result: SyncResult) -> None:
    """Strava answered 404: drop the fetch; a shoe is recorded missing, never asked for again."""
    got.dequeue.add(item.key)
    if item.kind == "gear":
        log.info("gear %s: not found on Strava (404); recorded as missing", item.object_id)
        got.items.append(
            LandingItem.from_json("gear_missing", item.object_id, {"status": 404, "gear_id": item.object_id})
        )
        result.gear += 1
    else:
        log.info("%s %s: gone from Strava (404); dropped from the queue", item.kind, object_id)
