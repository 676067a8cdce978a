"""Running a sync: one athlete (`sync_athlete`) or all of them on one shared budget (`sync_all`).

Requests are the scarce resource: an athlete with nothing new costs one request. When the
rate-limit budget is spent (or Strava answers 429) the athlete is reported as deferred and the
paging position and queue are saved, so the next run goes on from there.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from pipeline import tokens as token_store
from pipeline.config import Settings
from pipeline.strava_client import Api, AuthRevoked, Budget, StravaError, make_client
from pipeline.sync.fetch import fetch
from pipeline.sync.plan import TURN_REQUESTS, Plan, State, athlete_order, make_plan, read_state
from pipeline.sync.records import Clock, Fetched, Key, Partial, ProgressFn, SyncResult, TurnOver
from pipeline.sync.store import ingest_and_release, mark_reauth, registered_athletes, write_progress
from pipeline.warehouse import file_lock, writer


@contextlib.contextmanager
def sync_lock(settings: Settings, wait_s: float) -> Iterator[None]:
    """Only one sync at a time: two would spend the same rate limit on the same data."""
    with file_lock(
        settings.home / "sync.lock", wait_s, "another `backstride sync` is running; try again when it finishes"
    ):
        yield


def sync_athlete(
    settings: Settings,
    athlete_id: int,
    full: bool = False,
    budget: Budget | None = None,
    ingest: bool = True,
    *,
    stage: str = "all",
    cap: int | None = None,
    exclude: set[Key] | None = None,
    clock: Clock = time.time,
) -> SyncResult:
    """Sync one athlete; never raises for Strava trouble (it is reported in the result).

    `stage` "first" lists and fetches only the newest week, the profile and gear; "rest" works
    through the backlog (older pages, older runs), at most `cap` requests; "all" does both.
    `clock` is "now" in epoch seconds (the lookback window, the newest week, turn order).
    """
    result = SyncResult(athlete_id)
    budget = budget or Budget(settings.reserve_short, settings.reserve_daily)
    tokens = token_store.load_tokens(settings, athlete_id)
    if tokens is None:
        result.status, result.message = "needs_reauth", "no tokens stored: add the athlete again"
        mark_reauth(settings, athlete_id, result)
        return result
    with writer(settings) as con:
        state = read_state(con, athlete_id, full)
    now = clock()
    api = Api(make_client(settings, tokens, budget), settings, athlete_id, tokens, budget)
    plan = make_plan(stage, full, now, settings.lookback_weeks, state.timezone, cap, exclude or set())
    batch_id = f"{athlete_id}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    got = _fetch_reporting(settings, api, athlete_id, state, plan, result)
    result.requests = api.requests
    idle = not (api.requests or got.items or got.enqueue or got.dequeue or got.failed)
    if idle and result.status == "ok" and not ingest:  # a turn with nothing to do: nothing to record
        result.pending = len(state.queue)
        result.more = bool(state.queue) or state.resume_after is not None
        return result
    with writer(settings) as con:
        write_progress(con, athlete_id, batch_id, got, result, now)
        con.execute(
            "update athletes set needs_reauth = ? where athlete_id = ?", [result.status == "needs_reauth", athlete_id]
        )
        if ingest:
            ingest_and_release(con)
    return result


def _fetch_reporting(
    settings: Settings, api: Api, athlete_id: int, state: State, plan: Plan, result: SyncResult
) -> Fetched:
    """`fetch`, with Strava trouble turned into the result's status and a redacted message."""
    try:
        return fetch(api, athlete_id, state, plan, result)
    except Partial as partial:
        if isinstance(partial.cause, TurnOver):
            result.turned_over = True
        elif isinstance(partial.cause, AuthRevoked):
            result.status = "needs_reauth"
        else:
            result.status = "deferred"
        if not result.turned_over:
            result.message = token_store.redact_secrets(settings, str(partial.cause))
        return partial.fetched
    except AuthRevoked as err:
        result.status, result.message = "needs_reauth", token_store.redact_secrets(settings, str(err))
    except StravaError as err:
        result.status, result.message = "error", token_store.redact_secrets(settings, str(err))
    return _unchanged(state)


def _unchanged(state: State) -> Fetched:
    """Nothing fetched: keep the cursor and any paging in progress as they were."""
    return Fetched(
        cursor_epoch=state.cursor_epoch,
        paging_done=state.resume_after is None,
        resume_after=state.resume_after,
        resume_page=state.resume_page,
        resume_before=state.resume_before,
    )


def sync_all(
    settings: Settings,
    athlete_id: int | None = None,
    full: bool = False,
    progress: ProgressFn | None = None,
    wait_s: float = 600.0,
    clock: Clock = time.time,
) -> list[SyncResult]:
    """Sync every registered athlete (or one). One rate-limit budget is shared by all.

    Two passes, so that on one application's quota every athlete gets their newest week before
    any athlete's history and nobody starves: first, for each athlete (longest unsynced first),
    the listing (one page for a new athlete), the newest week's details and streams, the profile
    and gear; then the backlog (older pages, older runs), round-robin in turns of
    `TURN_REQUESTS`, the athletes whose backlog waited longest first. Whatever the budget does
    not cover stays queued, and the next run goes on from there.
    """
    with sync_lock(settings, wait_s):
        with writer(settings) as con:
            ids = registered_athletes(con, athlete_id)
            if athlete_id is not None and not ids:
                raise LookupError(f"athlete {athlete_id} is not registered (see `backstride athletes list`)")
            first_order = athlete_order(con, ids, "last_sync_at")
        budget = Budget(settings.reserve_short, settings.reserve_daily)
        results = _newest_weeks(settings, first_order, full, budget, progress, clock)
        _backlog_turns(settings, first_order, results, full, budget, clock)
        _finish(settings, results, budget)
        if progress:
            progress(-1, "done")
        return [results[a] for a in ids]


def _newest_weeks(
    settings: Settings,
    order: list[int],
    full: bool,
    budget: Budget,
    progress: ProgressFn | None,
    clock: Clock,
) -> dict[int, SyncResult]:
    """First pass: each athlete's listing, newest week, profile and gear, while the budget lasts."""
    results: dict[int, SyncResult] = {}
    for athlete in order:
        if progress:
            progress(athlete, "syncing")
        if budget.exhausted():
            results[athlete] = SyncResult(athlete, "deferred", message=budget.exhausted() or "")
            continue
        results[athlete] = sync_athlete(
            settings, athlete, full=full, budget=budget, ingest=False, stage="first", clock=clock
        )
    return results


def _backlog_turns(
    settings: Settings, order: list[int], results: dict[int, SyncResult], full: bool, budget: Budget, clock: Clock
) -> None:
    """Second pass: the backlogs, round-robin in turns of `TURN_REQUESTS`, longest waiting first."""
    waiting = [a for a in order if results[a].status == "ok" and results[a].more]
    if waiting:
        with writer(settings) as con:
            waiting = athlete_order(con, waiting, "backlog_served_epoch")
    while waiting and not budget.exhausted():
        cap = TURN_REQUESTS if len(waiting) > 1 else None
        again = []
        for athlete in waiting:
            if budget.exhausted():
                again.append(athlete)
                continue
            turn = sync_athlete(
                settings,
                athlete,
                full=full,
                budget=budget,
                ingest=False,
                stage="rest",
                cap=cap,
                exclude=results[athlete].failed_keys,
                clock=clock,
            )
            results[athlete].absorb(turn)
            if turn.status == "ok" and turn.turned_over:
                again.append(athlete)
        waiting = again


def _finish(settings: Settings, results: dict[int, SyncResult], budget: Budget) -> None:
    """Say which athletes wait for budget (the digest reads it), ingest everything."""
    reason = budget.exhausted()
    with writer(settings) as con:
        if reason:  # work left because the budget is spent: say so
            for result in results.values():
                if result.status == "ok" and result.more:
                    result.status, result.message = "deferred", reason
                    con.execute(
                        "update sync_state set last_status = 'deferred', last_message = ? where athlete_id = ?",
                        [reason, result.athlete_id],
                    )
        ingest_and_release(con)
