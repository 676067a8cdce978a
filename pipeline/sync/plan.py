"""What one athlete's sync should fetch, and in which order.

Reads the athlete's progress from the warehouse (`read_state`), decides whether and where to
list activities (`listing_window`), which details, streams, shoes and profile to queue
(`queue_work`), which queued fetches this stage takes first (`fetch_order`), and in which order
`sync_all` serves athletes (`athlete_order`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from pipeline.loading import RUN_TYPES
from pipeline.sync.records import Item, Key

CURSOR_OVERLAP_S = 3 * 3600  # re-read the last few hours: late uploads and quick edits
# While an athlete still has fetches queued (onboarding), their listing is re-read at most this
# often: every re-read is a request taken from the backlog (webhooks bring new activities anyway).
RELIST_WHILE_BACKLOG_S = 12 * 3600
# Second pass of `sync_all`: requests per athlete per turn when several athletes wait.
TURN_REQUESTS = 20
WEEK_S = 7 * 86400


@dataclass
class State:
    """One athlete's sync progress as the warehouse holds it."""

    cursor_epoch: int | None
    resume_after: int | None
    resume_page: int | None
    resume_before: int | None
    listed_epoch: int | None
    profile_epoch: int | None  # when the newest profile was fetched
    newest_start: int | None  # newest activity start in the warehouse
    wanted_gear: list[str]  # gear ids referenced with no body, not missing, not given up (all with --full)
    missing_gear: set[str]
    landed_gear: set[str]  # a body (or a failed fetch, or a 404) was landed
    detailed: set[int]
    streamed: set[int]
    queue: list[Item]
    known: dict[int, tuple]  # activity_id -> signature of the stored version
    timezone: str


@dataclass
class Plan:
    """What one call of `fetch` may do."""

    stage: str = "all"  # first: listing + newest week + profile and gear | rest: the backlog | all
    full: bool = False
    now: float = 0.0
    lookback_start: int = 0
    urgent_start: int = 0
    cap: int | None = None  # at most this many requests (a turn of the second pass)
    exclude: set[Key] = field(default_factory=set)  # failed earlier in this run


@dataclass
class Window:
    """Where a listing starts: `after`, `page` and `before` as the list endpoint takes them."""

    after: int
    page: int
    before: int | None
    newest_first: bool


def gear_queue_key(gear_id: str) -> int:
    """The fetch_queue `activity_id` of a gear fetch: negative, so it never meets an activity id."""
    return -int(hashlib.md5(str(gear_id).encode(), usedforsecurity=False).hexdigest()[:15], 16) - 1


def gear_id_of(value: object) -> str | None:
    """Strava's gear ids are text; some payloads carry a number."""
    if value is None or isinstance(value, bool) or value == "":
        return None
    return str(value)


def signature(summary: dict) -> tuple:
    """The summary fields whose change means an activity was edited on Strava."""
    distance = summary.get("distance")
    return (
        summary.get("name"),
        summary.get("sport_type") or summary.get("type"),
        round(float(distance), 1) if isinstance(distance, int | float) else None,
        summary.get("moving_time"),
        gear_id_of(summary.get("gear_id")),
    )


def epoch(value: object) -> int | None:
    """An ISO timestamp from a payload as epoch seconds (None when it is not one)."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def urgent_start(now: float, timezone: str) -> int:
    """Start (epoch s) of the athlete's last complete local ISO week: its runs are the 'newest
    week' work, fetched for every athlete before anybody's history or the days since."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    today = datetime.fromtimestamp(now, zone).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return int(datetime.combine(monday, dt_time(), tzinfo=zone).timestamp())


def make_plan(
    stage: str, full: bool, now: float, lookback_weeks: int, timezone: str, cap: int | None, exclude: set[Key]
) -> Plan:
    """The plan of one call: its stage, the lookback window and the newest week in the athlete's zone."""
    return Plan(
        stage=stage,
        full=full,
        now=now,
        lookback_start=int(now - timedelta(weeks=lookback_weeks).total_seconds()),
        urgent_start=urgent_start(now, timezone),
        cap=cap,
        exclude=exclude,
    )


# --- the athlete's progress ------------------------------------------------------------------


def read_state(con: duckdb.DuckDBPyConnection, athlete_id: int, full: bool = False) -> State:
    """Cursor, paging in progress, queue and what is already stored, for one athlete."""
    row = con.execute(
        """select cursor_epoch, resume_after, resume_page, resume_before, listed_epoch
           from sync_state where athlete_id = ?""",
        [athlete_id],
    ).fetchall()
    cursor, resume_after, resume_page, resume_before, listed = row[0] if row else (None,) * 5
    profile_epoch = con.execute(
        """select epoch(max(fetched_at))::bigint from landing
           where athlete_id = ? and endpoint = 'athlete' and parse_error is null""",
        [athlete_id],
    ).fetchall()[0][0]
    newest_start, zone = con.execute(
        """select (select epoch(max(start_date))::bigint from activities where athlete_id = $1),
                  (select timezone from athletes where athlete_id = $1)""",
        [athlete_id],
    ).fetchall()[0]
    wanted, missing, landed_gear = _gear_state(con, athlete_id, full)
    fetched = con.execute(
        """select endpoint, try_cast(object_id as bigint) from landing
           where athlete_id = ? and endpoint in ('activity_detail', 'streams') and parse_error is null""",
        [athlete_id],
    ).fetchall()
    return State(
        known=_known_signatures(con, athlete_id),
        cursor_epoch=cursor,
        resume_after=resume_after,
        resume_page=resume_page,
        resume_before=resume_before,
        listed_epoch=listed,
        profile_epoch=profile_epoch,
        newest_start=newest_start,
        wanted_gear=wanted,
        missing_gear=missing,
        landed_gear=landed_gear,
        detailed={i for e, i in fetched if e == "activity_detail"},
        streamed={i for e, i in fetched if e == "streams"},
        queue=_queued(con, athlete_id),
        timezone=zone or "UTC",
    )


def _gear_state(con: duckdb.DuckDBPyConnection, athlete_id: int, full: bool) -> tuple[list[str], set[str], set[str]]:
    """Gear the rules need, gear Strava does not know (404), and gear with anything landed.

    Needed: referenced by the athlete's activities (stored or held in quarantine, e.g. by
    run_gear_exists) or listed in the profile, with no body landed, not recorded missing (404)
    and not given up (a failed fetch landed and no longer queued).
    """
    refs = con.execute(
        """with refs as (
               select gear_id::varchar as gear_id from activities where athlete_id = $1 and gear_id is not null
               union select row_json->>'gear_id' from quarantine
               where table_name = 'activities' and athlete_id = $1 and released_at is null
                 and superseded_by is null and (row_json->>'gear_id') is not null
               union select gear_id from gear where athlete_id = $1 and not missing)
           select gear_id from refs where gear_id <> '' order by gear_id""",
        [athlete_id],
    ).fetchall()
    landed = con.execute(
        """select distinct endpoint, object_id from landing
           where athlete_id = ? and endpoint in ('gear', 'gear_missing') and object_id is not null""",
        [athlete_id],
    ).fetchall()
    missing = {o for e, o in landed if e == "gear_missing"}
    landed_gear = {o for _, o in landed}
    # with --full every shoe's body is read again (running totals), except those Strava does not know
    wanted = [g for (g,) in refs if g not in (missing if full else landed_gear)]
    return wanted, missing, landed_gear


def _queued(con: duckdb.DuckDBPyConnection, athlete_id: int) -> list[Item]:
    rows = con.execute(
        """select q.activity_id, q.kind, q.attempts, coalesce(q.start_epoch, epoch(a.start_date)::bigint), q.object_id
           from fetch_queue q left join activities a using (activity_id)
           where q.athlete_id = ? order by 4 desc nulls last, q.activity_id desc""",
        [athlete_id],
    ).fetchall()
    return [Item(int(a), k, int(n), None if t is None else int(t), o) for a, k, n, t, o in rows]


def _known_signatures(con: duckdb.DuckDBPyConnection, athlete_id: int) -> dict[int, tuple]:
    rows = con.execute(
        "select activity_id, name, sport_type, distance, moving_time, gear_id from activities where athlete_id = ?",
        [athlete_id],
    ).fetchall()
    return {int(r[0]): (r[1], r[2], None if r[3] is None else round(r[3], 1), r[4], r[5]) for r in rows}


# --- what to fetch ---------------------------------------------------------------------------


def listing_window(state: State, plan: Plan) -> Window | None:
    """Where this call lists activities, or None when it does not list at all.

    A first listing (and --full) pages newest first, so that the newest week is known after one
    page; later listings page oldest first from the cursor (with an overlap). A paging in
    progress resumes where it stopped.
    """
    resuming = state.resume_after is not None and not plan.full
    newest_first = (state.resume_before is not None) if resuming else (plan.full or state.cursor_epoch is None)
    backlog = bool(state.queue or state.wanted_gear)
    recently = state.listed_epoch is not None and state.listed_epoch >= plan.now - RELIST_WHILE_BACKLOG_S
    if resuming:
        # an oldest-first paging in progress holds the newest activities; a newest-first one
        # holds older pages (backlog), which the first stage leaves for later
        if newest_first and plan.stage == "first":
            return None
        return Window(state.resume_after or 0, state.resume_page or 1, state.resume_before, newest_first)
    if plan.stage == "rest" or (backlog and recently and not plan.full):
        return None
    if newest_first:
        return Window(0, 1, int(plan.now) + 1, True)
    return Window(max(0, (state.cursor_epoch or 0) - CURSOR_OVERLAP_S), 1, None, False)


def queue_work(
    athlete_id: int, state: State, plan: Plan, changed: list[dict]
) -> tuple[dict[Key, Item], dict[Key, tuple[int | None, str | None]]]:
    """The queue after this listing, and the fetches it added (start, gear id).

    Details and streams of runs inside the lookback window, the gear they use, and the profile
    (shoes with their running totals) when it is missing or older than an activity.
    """
    queue = {item.key: item for item in state.queue}
    added: dict[Key, tuple[int | None, str | None]] = {}

    def enqueue(activity_id: int, kind: str, start: int | None = None, object_id: str | None = None) -> None:
        key = (activity_id, kind)
        if key not in queue:
            queue[key] = Item(activity_id, kind, 0, start, object_id)
            added[key] = (start, object_id)

    for summary in changed:
        activity_id = summary["id"]
        start = epoch(summary.get("start_date")) or 0
        sport = summary.get("sport_type") or summary.get("type")
        if sport in RUN_TYPES and start >= plan.lookback_start:
            if activity_id not in state.detailed or activity_id in state.known:
                enqueue(activity_id, "detail", start)
            if activity_id not in state.streamed:
                enqueue(activity_id, "streams", start)
    gear_ids = list(state.wanted_gear) if plan.stage != "rest" or not plan.full else []
    for summary in changed:
        gear_id = gear_id_of(summary.get("gear_id"))
        if gear_id and gear_id not in state.landed_gear:
            gear_ids.append(gear_id)
    for gear_id in gear_ids:
        enqueue(gear_queue_key(gear_id), "gear", None, gear_id)
    newest_activity = max([state.newest_start or 0] + [epoch(s.get("start_date")) or 0 for s in changed])
    if plan.full or state.profile_epoch is None or newest_activity > state.profile_epoch:
        enqueue(athlete_id, "profile")
    return queue, added


def fetch_order(queue: dict[Key, Item], plan: Plan) -> list[Item]:
    """The queued fetches this call takes, in order.

    Profile and gear first (cheap, and the shoe rules need them), then details and streams newest
    first; the first stage takes only the last complete week's (the one the weekly email is
    about; the days since come first in the backlog).
    """

    def rank(item: Item) -> tuple:
        return (item.kind not in ("profile", "gear"), -(item.start or 0), -item.activity_id)

    def wanted_now(item: Item) -> bool:
        if item.key in plan.exclude:
            return False
        if plan.stage != "first" or item.kind in ("profile", "gear"):
            return True
        return plan.urgent_start <= (item.start or 0) < plan.urgent_start + WEEK_S

    return sorted((i for i in queue.values() if wanted_now(i)), key=rank)


def athlete_order(con: duckdb.DuckDBPyConnection, ids: list[int], column: str) -> list[int]:
    """Athletes by `sync_state.<column>`, never or longest ago first, then by id."""
    if not ids:
        return []
    rows = con.execute(
        f"""select a.athlete_id from (select unnest(?::bigint[]) as athlete_id) a
            left join sync_state s using (athlete_id)
            order by s.{column} nulls first, a.athlete_id""",
        [ids],
    ).fetchall()
    return [r[0] for r in rows]
