"""What the warehouse could not see of an athlete's week, and which factors that leaves unjudged.

The digest must never give an all-clear built on missing data (shared/evidence.md, "How to
word it"). Everything that makes a week incomplete is in the warehouse:

- the last sync failed (`sync_state.last_status` error or needs_reauth, `athletes.needs_reauth`),
  or it was deferred, or ran, before the week was fully listed: the digest is **held** (no email,
  nothing recorded), since it cannot even say which runs there were;
- details or streams still queued (`fetch_queue`) for the week's runs: the email is sent and
  says which factors it could not judge (see `pipeline.digest.delivery` for why it is not held);
- open quarantined rows (`quarantine.released_at is null`);
- shoes Strava could not find (`gear.missing`, read only where the column exists);
- window rules not judged yet for lack of history (the `rule_readiness` mart, where it exists).

Each gap names the factors it keeps from being judged (`GAP_FACTORS`); the digest then drops
those factors' "nothing to report" lines and lists them as not judged instead.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from pipeline.digest.gap_wording import ALL_FACTORS, GAP_FACTORS, gap_text

# The checks look back over the week and the 4 weeks before it (the 28-day windows of the rule
# catalogue); what is missing from that span changes this week's judgement.
WINDOW_DAYS = 28
# Shoe rotation counts the shoes of the last 12 weeks (shoes.rotation window_days).
SHOE_WINDOW_DAYS = 84

QUARANTINE_KIND = {"splits": "quarantine_splits", "stream_features": "quarantine_streams", "gear": "quarantine_gear"}


@dataclass(frozen=True)
class Gap:
    """One thing the digest could not see: a sentence for the runner and the factors it blinds."""

    key: str
    text: str
    count: int

    @property
    def factors(self) -> dict[str, str]:
        return GAP_FACTORS.get(self.key, {})


@dataclass(frozen=True)
class HistoryWait:
    """A window rule that stays silent until the athlete has the history its window covers."""

    rule_id: str
    factor: str
    needed_days: int
    starts: dt.date


@dataclass
class WeekGaps:
    """Everything missing from one athlete's week. `hold` set: send nothing yet."""

    hold: str | None = None
    gaps: list[Gap] = field(default_factory=list)
    history: list[HistoryWait] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.hold is None and not self.gaps and not self.history

    def unjudged(self) -> dict[str, list[str]]:
        """Factor -> what part of it could not be checked, in `ALL_FACTORS` order."""
        parts: dict[str, list[str]] = defaultdict(list)
        for gap in self.gaps:
            for factor, what in gap.factors.items():
                if what not in parts[factor]:
                    parts[factor].append(what)
        for wait in self.history:
            if "checks that need more history" not in parts[wait.factor]:
                parts[wait.factor].append("checks that need more history")
        order = [f for f in ALL_FACTORS if f in parts] + sorted(f for f in parts if f not in ALL_FACTORS)
        return {f: parts[f] for f in order}

    def count(self, key: str) -> int:
        return sum(g.count for g in self.gaps if g.key == key)

    def summary(self) -> str:
        """A short line for the run's report: what was missing and which factors were not judged."""
        bits = [f"{g.key.replace('_', ' ')}: {g.count}" for g in self.gaps]
        if self.history:
            bits.append(f"waiting for history: {', '.join(sorted({w.rule_id for w in self.history}))}")
        unjudged = self.unjudged()
        if unjudged:
            bits.append(f"not judged: {', '.join(unjudged)}")
        return "; ".join(bits)


# --- reading --------------------------------------------------------------------------------


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str | None = None) -> bool:
    sql = "select count(*) from information_schema.columns where table_name = ?"
    params: list[Any] = [table]
    if column is not None:
        sql += " and column_name = ?"
        params.append(column)
    row = con.execute(sql, params).fetchone()
    return bool(row and row[0])


def as_date(value: Any) -> dt.date | None:
    """A date from a DuckDB date, timestamp or ISO text; None when it is none of those."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def week_end_utc(week_start: dt.date, zone: ZoneInfo) -> dt.datetime:
    """Midnight after the week's Sunday on the athlete's own calendar."""
    return dt.datetime.combine(week_start + dt.timedelta(days=7), dt.time(), tzinfo=zone).astimezone(dt.UTC)


def week_listed(sync: dict[str, Any], week_start: dt.date, zone: ZoneInfo, earliest: dt.datetime | None) -> bool:
    """Whether the athlete's activity list is known up to the end of the week.

    `listed_epoch` is when a listing last completed; a warehouse written before that column
    existed has only `last_sync_at` for it. An oldest-first paging in progress resumes after
    a point everything before which was listed; a newest-first one (`resume_before`) has listed
    the week once it went back past the week's Monday (`earliest`: the athlete's oldest activity).
    """
    end = week_end_utc(week_start, zone)
    listed_epoch = sync.get("listed_epoch")
    if listed_epoch is not None and listed_epoch >= end.timestamp():
        return True
    resume_after, resume_before = sync.get("resume_after"), sync.get("resume_before")
    if resume_after is None:
        if listed_epoch is not None:
            return False  # the last listing finished before the week ended; none since
        last = sync.get("last_sync_at")
        return last is not None and last >= end
    if resume_before is None:
        return resume_after >= end.timestamp()
    start = end - dt.timedelta(days=7)
    return resume_before >= end.timestamp() and earliest is not None and earliest < start


def hold_reason(
    sync: dict[str, Any] | None,
    week_start: dt.date,
    zone: ZoneInfo,
    earliest: dt.datetime | None = None,
    from_strava: bool = False,
) -> str | None:
    """Why no digest can be sent for the week yet, or None.

    No `sync_state` row: an athlete registered from Strava (`from_strava`: their profile is in
    landing) has not been synced yet; otherwise the data was loaded another way and there is no
    sync to distrust.
    """
    if sync is None:
        return "registered but not synced yet" if from_strava else None
    status, message = sync.get("last_status"), sync.get("last_message")
    said = f": {message}" if message else ""
    if sync.get("needs_reauth") or status == "needs_reauth":
        return f"Strava access must be renewed (the athlete has to connect again){said}"
    if status == "error":
        return f"the last sync failed{said}"
    if week_listed(sync, week_start, zone, earliest):
        return None
    if status == "deferred":
        return f"the last sync was deferred before it listed all of this week's activities{said}"
    return "the activity list has not been read since the week ended"


IN_IDS = "athlete_id in (select unnest(?::bigint[]))"


def read_gaps(
    con: duckdb.DuckDBPyConnection, weeks: dict[int, dt.date], zones: dict[int, ZoneInfo]
) -> dict[int, WeekGaps]:
    """What is missing from each athlete's week (one query per source for all athletes)."""
    ids = list(weeks)
    result = {a: WeekGaps() for a in ids}
    if not ids:
        return result
    span = Spans(weeks)
    _read_holds(con, ids, weeks, zones, result)
    _read_pending(con, ids, span, result)
    _read_quarantine(con, ids, span, zones, result)
    _read_missing_gear(con, ids, span, result)
    _read_history_waits(con, ids, weeks, result)
    return result


@dataclass(frozen=True)
class Spans:
    """Where a day falls against each athlete's week: 'week', 'earlier' (within a window before), or None."""

    weeks: dict[int, dt.date]

    def __call__(self, athlete_id: int, day: dt.date | None, before_days: int) -> str | None:
        if day is None:
            return None
        start = self.weeks[athlete_id]
        if start <= day < start + dt.timedelta(days=7):
            return "week"
        if start - dt.timedelta(days=before_days) <= day < start:
            return "earlier"
        return None


def _add_gaps(result: dict[int, WeekGaps], found: dict[tuple[int, str], set[Any]]) -> None:
    for (athlete_id, key), items in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        result[athlete_id].gaps.append(Gap(key, gap_text(key, len(items)), len(items)))


def _read_holds(
    con: duckdb.DuckDBPyConnection,
    ids: list[int],
    weeks: dict[int, dt.date],
    zones: dict[int, ZoneInfo],
    result: dict[int, WeekGaps],
) -> None:
    """1. The last sync: failed, needing reauth, or not yet past the week's end."""
    earliest = {
        r["athlete_id"]: r["earliest"]
        for r in _rows(
            con, f"select athlete_id, min(start_date) as earliest from activities where {IN_IDS} group by 1", [ids]
        )
    }
    from_strava = {
        r[0] for r in con.execute(f"select distinct athlete_id from landing where {IN_IDS}", [ids]).fetchall()
    }
    for row in _rows(
        con,
        f"""select s.* exclude (athlete_id), a.athlete_id, a.needs_reauth, s.athlete_id is not null as synced
            from athletes a left join sync_state s on s.athlete_id = a.athlete_id where a.{IN_IDS}""",
        [ids],
    ):
        athlete_id = row["athlete_id"]
        known = row if row["synced"] or row["needs_reauth"] else None
        result[athlete_id].hold = hold_reason(
            known, weeks[athlete_id], zones[athlete_id], earliest.get(athlete_id), athlete_id in from_strava
        )


def _read_pending(con: duckdb.DuckDBPyConnection, ids: list[int], span: Spans, result: dict[int, WeekGaps]) -> None:
    """2. Details, streams, gear and profiles still queued."""
    pending: dict[tuple[int, str], set[Any]] = defaultdict(set)
    for row in _rows(
        con,
        f"""select q.athlete_id, q.kind, q.activity_id, a.start_date_local
            from fetch_queue q left join activities a on a.activity_id = q.activity_id where q.{IN_IDS}""",
        [ids],
    ):
        athlete_id, kind, day = row["athlete_id"], str(row["kind"]), as_date(row["start_date_local"])
        if kind == "streams" and span(athlete_id, day, 0) == "week":
            pending[(athlete_id, "pending_streams")].add(row["activity_id"])
        elif kind == "detail" and span(athlete_id, day, WINDOW_DAYS):
            pending[(athlete_id, "pending_details")].add(row["activity_id"])
        elif kind == "gear":
            pending[(athlete_id, "pending_gear")].add(row["activity_id"])
        elif kind not in ("streams", "detail"):  # the athlete's profile, with the shoes' running totals
            pending[(athlete_id, "pending_profile")].add(row["activity_id"])
    for (athlete_id, key), found in pending.items():  # in the order first seen, as the email lists them
        result[athlete_id].gaps.append(Gap(key, gap_text(key, len(found)), len(found)))


def _quarantine_key(row: dict[str, Any], athlete_id: int, day: dt.date | None, span: Spans) -> str | None:
    """Which gap an open quarantined row makes, or None when it lies outside the windows."""
    table = str(row["table_name"])
    if table == "landing" and row["endpoint"] in ("streams", "gear"):  # a body of that kind, unreadable
        table = "stream_features" if row["endpoint"] == "streams" else "gear"
    if table == "gear":
        return "quarantine_gear"
    where = span(athlete_id, day, WINDOW_DAYS)
    if table == "activities":
        return f"quarantine_{where}" if where else None
    return QUARANTINE_KIND.get(table, "quarantine_other") if where else None


def _read_quarantine(
    con: duckdb.DuckDBPyConnection,
    ids: list[int],
    span: Spans,
    zones: dict[int, ZoneInfo],
    result: dict[int, WeekGaps],
) -> None:
    """3. Open quarantine: dated by the activity (as loaded, or as it arrived), else by when it was held."""
    held: dict[tuple[int, str], set[Any]] = defaultdict(set)
    for row in _rows(
        con,
        f"""select q.athlete_id, q.table_name, coalesce(cast(q.activity_id as varchar), q.record_key) as key,
                   coalesce(cast(a.start_date_local as varchar),
                            json_extract_string(q.row_json, '$.start_date_local'),
                            json_extract_string(q.row_json, '$.start_date')) as activity_date,
                   q.quarantined_at, json_extract_string(q.row_json, '$.endpoint') as endpoint
            from quarantine q left join activities a on a.activity_id = q.activity_id
            where q.{IN_IDS} and q.released_at is null""",
        [ids],
    ):
        athlete_id = row["athlete_id"]
        day = as_date(row["activity_date"])
        if day is None and row["quarantined_at"] is not None:
            day = row["quarantined_at"].astimezone(zones[athlete_id]).date()
        key = _quarantine_key(row, athlete_id, day, span)
        if key:
            held[(athlete_id, key)].add(str(row["key"]))
    _add_gaps(result, held)


def _read_missing_gear(
    con: duckdb.DuckDBPyConnection, ids: list[int], span: Spans, result: dict[int, WeekGaps]
) -> None:
    """4. Shoes Strava could not find, used on runs of the shoe-rotation window."""
    if not _has_column(con, "gear", "missing"):
        return
    missing: dict[int, set[str]] = defaultdict(set)
    for row in _rows(
        con,
        f"""select a.athlete_id, a.gear_id, a.start_date_local from activities a
            join gear g on g.gear_id = a.gear_id where g.missing and a.{IN_IDS}""",
        [ids],
    ):
        if span(row["athlete_id"], as_date(row["start_date_local"]), SHOE_WINDOW_DAYS):
            missing[row["athlete_id"]].add(str(row["gear_id"]))
    for athlete_id, gear in missing.items():
        result[athlete_id].gaps.append(Gap("missing_gear", gap_text("missing_gear", len(gear)), len(gear)))


def _read_history_waits(
    con: duckdb.DuckDBPyConnection, ids: list[int], weeks: dict[int, dt.date], result: dict[int, WeekGaps]
) -> None:
    """5. Window rules waiting for history: history_days counts up to the week's Sunday, so the
    rule starts in the first week that makes up the difference (the mart's ready_from, if any)."""
    if not _has_column(con, "rule_readiness"):
        return
    ready_from = "ready_from" if _has_column(con, "rule_readiness", "ready_from") else "null"
    for row in _rows(
        con,
        f"""select athlete_id, week_start, rule_id, factor, needed_days, history_days, {ready_from} as ready_from
            from rule_readiness where {IN_IDS} and not coalesce(ready, false) order by rule_id""",
        [ids],
    ):
        athlete_id, week = row["athlete_id"], as_date(row["week_start"])
        if week != weeks[athlete_id]:
            continue
        needed, have = int(row["needed_days"] or 0), int(row["history_days"] or 0)
        starts = as_date(row["ready_from"]) or week + dt.timedelta(weeks=max(1, -(-(needed - have) // 7)))
        result[athlete_id].history.append(HistoryWait(str(row["rule_id"]), str(row["factor"]), needed, starts))


# --- wording --------------------------------------------------------------------------------
