"""Landing raw API payloads and deriving the typed tables from them.

Every payload is appended to `landing` as it came (identical re-fetches are skipped by
hash), so the typed tables can always be rebuilt. `ingest_pending` turns the landing
batches not yet ingested into typed rows with DuckDB's JSON functions (bulk, no Python
row loops except for stream summaries), hands them to validation and upserts the rows
that pass by primary key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from pipeline.warehouse import SCHEMA

log = logging.getLogger(__name__)

RUN_TYPES = ("Run", "TrailRun", "VirtualRun")
PRIMARY_KEYS: dict[str, list[str]] = {
    "athletes": ["athlete_id"],
    "activities": ["activity_id"],
    "splits": ["activity_id", "split"],
    "gear": ["gear_id"],
    "stream_features": ["activity_id"],
}
TYPED_TABLES = list(PRIMARY_KEYS)

Validator = Callable[[duckdb.DuckDBPyConnection, dict[str, pd.DataFrame], str], dict[str, pd.DataFrame]]


@dataclass
class LandingItem:
    """One API body as it came: parsed JSON text, or the raw text when it was not JSON."""

    endpoint: str
    object_id: str | None
    payload: str | None
    raw_text: str | None = None
    parse_error: str | None = None
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @classmethod
    def from_json(cls, endpoint: str, object_id: object, body: object) -> LandingItem:
        return cls(endpoint, None if object_id is None else str(object_id), json.dumps(body, sort_keys=True))

    @classmethod
    def from_text(cls, endpoint: str, object_id: object, text: str) -> LandingItem:
        """The body exactly as the server sent it."""
        return cls(endpoint, None if object_id is None else str(object_id), text)

    @classmethod
    def malformed(cls, endpoint: str, object_id: object, raw_text: str, error: str) -> LandingItem:
        return cls(endpoint, None if object_id is None else str(object_id), None, raw_text[:1_000_000], error)

    @property
    def digest(self) -> str:
        body = self.payload if self.payload is not None else f"!{self.raw_text}"
        return hashlib.md5(body.encode("utf-8", "replace"), usedforsecurity=False).hexdigest()


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [r[0] for r in con.execute(f'select column_name from (describe "{table}")').fetchall()]


def land(con: duckdb.DuckDBPyConnection, athlete_id: int, batch_id: str, items: Iterable[LandingItem]) -> int:
    """Append payloads to `landing` in one bulk insert; skip bodies already stored for that object."""
    rows = list(items)
    if not rows:
        return 0
    frame = pd.DataFrame(
        {
            "athlete_id": [int(athlete_id)] * len(rows),
            "endpoint": [r.endpoint for r in rows],
            "object_id": [r.object_id for r in rows],
            "fetched_at": [r.fetched_at for r in rows],
            "batch_id": [batch_id] * len(rows),
            "payload": [r.payload for r in rows],
            "raw_text": [r.raw_text for r in rows],
            "parse_error": [r.parse_error for r in rows],
            "payload_hash": [r.digest for r in rows],
        }
    )
    con.register("incoming_landing", frame)
    try:
        inserted = con.execute(
            """
            insert into landing
            select nextval('landing_seq'), i.athlete_id, i.endpoint, i.object_id, i.fetched_at,
                   i.batch_id, i.payload::json, i.raw_text, i.parse_error, i.payload_hash
            from (select *, row_number() over (partition by endpoint, object_id, payload_hash order by fetched_at) as dup
                  from incoming_landing) i
            where i.dup = 1 and not exists (
                select 1 from landing l
                where l.endpoint = i.endpoint and l.object_id is not distinct from i.object_id
                  and l.payload_hash = i.payload_hash and l.athlete_id = i.athlete_id)
            returning landing_id
            """
        ).fetchall()
    finally:
        con.unregister("incoming_landing")
    return len(inserted)


def merge_frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> int:
    """Upsert rows into `table` by its primary key, in bulk."""
    if df is None or df.empty:
        return 0
    cols = [c for c in table_columns(con, table) if c in df.columns]
    name = f"incoming_{table}"
    con.register(name, df[cols])
    try:
        col_list = ", ".join(f'"{c}"' for c in cols)
        con.execute(f'insert or replace into "{table}" ({col_list}) select {col_list} from "{name}"')
    finally:
        con.unregister(name)
    return len(df)


# --- deriving typed rows -------------------------------------------------------------------

# The fields read from activity payloads, parsed in one pass per payload by DuckDB's
# non-strict `from_json` (a value of the wrong type becomes NULL, for validation to catch).
ACTIVITY_STRUCT = (
    '{"id": "BIGINT", "name": "VARCHAR", "description": "VARCHAR", "sport_type": "VARCHAR", '
    '"type": "VARCHAR", "start_date": "VARCHAR", "start_date_local": "VARCHAR", "timezone": "VARCHAR", '
    '"distance": "DOUBLE", "moving_time": "DOUBLE", "elapsed_time": "DOUBLE", '
    '"total_elevation_gain": "DOUBLE", "average_speed": "DOUBLE", "max_speed": "DOUBLE", '
    '"average_cadence": "DOUBLE", "average_heartrate": "DOUBLE", "max_heartrate": "DOUBLE", '
    '"gear_id": "VARCHAR", "trainer": "BOOLEAN", "manual": "BOOLEAN", "workout_type": "BIGINT"}'
)

_ACTIVITY_SQL = f"""
with pending_landing as (
    select * from landing
    where batch_id in (select batch_id from pending_batches)
      and endpoint in ('activities_page', 'activity_detail') and payload is not null
),
touched_athletes as (select distinct athlete_id from pending_landing),
pages as (
    select l.landing_id, l.athlete_id, l.batch_id,
           unnest(from_json(l.payload, '[{ACTIVITY_STRUCT}]')) as a,
           generate_subscripts(from_json(l.payload, '[{ACTIVITY_STRUCT}]'), 1) as ordinal
    from landing l join touched_athletes using (athlete_id)
    where l.endpoint = 'activities_page' and l.payload is not null and json_type(l.payload) = 'ARRAY'
),
details as (
    select l.landing_id, l.athlete_id, l.batch_id, from_json(l.payload, '{ACTIVITY_STRUCT}') as a, 0 as ordinal
    from landing l join touched_athletes using (athlete_id)
    where l.endpoint = 'activity_detail' and l.payload is not null and json_type(l.payload) = 'OBJECT'
),
touched as (
    select distinct a.id from pages where batch_id in (select batch_id from pending_batches)
    union select distinct a.id from details where batch_id in (select batch_id from pending_batches)
),
versions as (
    select *, 'summary' as kind from pages where a.id in (select id from touched)
    union all
    select *, 'detail' as kind from details where a.id in (select id from touched)
),
ranked as (
    select *, row_number() over (partition by a.id order by landing_id desc, ordinal) as newest,
           row_number() over (partition by a.id, kind order by landing_id desc, ordinal) as newest_of_kind
    from versions
),
latest as (select * from ranked where newest = 1),
detail as (select * from ranked where kind = 'detail' and newest_of_kind = 1)
select
    latest.a.id as activity_id,
    latest.athlete_id,
    latest.a.name as name,
    detail.a.description as description,
    coalesce(latest.a.sport_type, latest.a.type) as sport_type,
    latest.a.type as type,
    try_cast(latest.a.start_date as timestamptz) as start_date,
    try_cast(replace(latest.a.start_date_local, 'Z', '') as timestamp) as start_date_local,
    latest.a.timezone as timezone,
    latest.a.distance as distance,
    try_cast(latest.a.moving_time as integer) as moving_time,
    try_cast(latest.a.elapsed_time as integer) as elapsed_time,
    latest.a.total_elevation_gain as total_elevation_gain,
    latest.a.average_speed as average_speed,
    latest.a.max_speed as max_speed,
    latest.a.average_cadence as average_cadence,
    latest.a.average_heartrate as average_heartrate,
    latest.a.max_heartrate as max_heartrate,
    coalesce(latest.a.gear_id, detail.a.gear_id) as gear_id,
    latest.a.trainer as trainer,
    latest.a.manual as manual,
    try_cast(latest.a.workout_type as integer) as workout_type,
    detail.landing_id is not null as has_detail,
    latest.landing_id,
    latest.batch_id,
    now() as loaded_at
from latest left join detail on detail.a.id = latest.a.id
where latest.a.id is not null
  and latest.a.id not in (select activity_id from deleted_activities)
"""

_SPLITS_SQL = """
with touched as (
    select distinct object_id from landing
    where batch_id in (select batch_id from pending_batches) and endpoint = 'activity_detail'
),
detail as (
    select l.*, row_number() over (partition by l.object_id order by l.landing_id desc) as newest
    from landing l join touched using (object_id)
    where l.endpoint = 'activity_detail' and l.payload is not null
),
items as (
    select try_cast(object_id as bigint) as activity_id, athlete_id,
           unnest(coalesce(try_cast(payload->'$.splits_metric[*]' as json[]), []::json[])) as s
    from detail where newest = 1
)
select activity_id, athlete_id,
       coalesce(try_cast(s->>'split' as integer), -1) as split,
       try_cast(s->>'distance' as double) as distance,
       try_cast(s->>'elapsed_time' as integer) as elapsed_time,
       try_cast(s->>'moving_time' as integer) as moving_time,
       try_cast(s->>'average_speed' as double) as average_speed,
       try_cast(s->>'average_heartrate' as double) as average_heartrate,
       try_cast(s->>'elevation_difference' as double) as elevation_difference,
       try_cast(s->>'pace_zone' as integer) as pace_zone
from items
where activity_id not in (select activity_id from deleted_activities)
"""

_GEAR_SQL = """
with touched_athletes as (
    select distinct athlete_id from landing
    where batch_id in (select batch_id from pending_batches) and endpoint in ('athlete', 'gear', 'gear_missing')
),
profile as (
    select l.athlete_id, l.landing_id, l.payload,
           row_number() over (partition by l.athlete_id order by l.landing_id desc) as newest
    from landing l join touched_athletes using (athlete_id)
    where l.endpoint = 'athlete' and l.payload is not null
),
shoes as (
    select athlete_id, landing_id, unnest(coalesce(try_cast(payload->'$.shoes[*]' as json[]), []::json[])) as g
    from profile where newest = 1
),
shoe_rows as (
    select athlete_id, landing_id, g->>'id' as gear_id, g->>'name' as name,
           try_cast(g->>'distance' as double) as distance, try_cast(g->>'retired' as boolean) as retired,
           try_cast(g->>'primary' as boolean) as is_primary
    from shoes
),
details as (
    select l.athlete_id, l.landing_id, l.object_id as gear_id, l.payload,
           row_number() over (partition by l.object_id order by l.landing_id desc) as newest
    from landing l join touched_athletes using (athlete_id)
    where l.endpoint = 'gear' and l.payload is not null
),
detail_rows as (select * from details where newest = 1),
-- Strava answered 404 for the gear id (sync lands a marker): the gear is recorded as missing,
-- unless a body arrived later
not_found as (
    select l.athlete_id, l.object_id as gear_id, max(l.landing_id) as landing_id
    from landing l join touched_athletes using (athlete_id)
    where l.endpoint = 'gear_missing' and l.object_id is not null
    group by all
),
ids as (
    select athlete_id, gear_id from shoe_rows
    union select athlete_id, gear_id from detail_rows
    union select athlete_id, gear_id from not_found
)
select ids.gear_id, ids.athlete_id,
       coalesce(d.payload->>'name', s.name) as name,
       d.payload->>'brand_name' as brand_name,
       d.payload->>'model_name' as model_name,
       case when s.gear_id is not null or ids.gear_id like 'g%' then 'shoe'
            when n.gear_id is not null and d.gear_id is null and ids.gear_id not like 'b%' then 'shoe'
            else 'bike' end as gear_type,
       -- the newer of the profile's running total and the gear detail's
       case when s.landing_id is not null and (d.landing_id is null or s.landing_id > d.landing_id)
            then s.distance else try_cast(d.payload->>'distance' as double) end as distance,
       coalesce(try_cast(d.payload->>'retired' as boolean), s.retired, false) as retired,
       coalesce(s.is_primary, try_cast(d.payload->>'primary' as boolean), false) as is_primary,
       n.gear_id is not null and (d.landing_id is null or n.landing_id > d.landing_id) as missing,
       greatest(coalesce(s.landing_id, 0), coalesce(d.landing_id, 0), coalesce(n.landing_id, 0)) as landing_id,
       now() as loaded_at
from ids
left join shoe_rows s on s.gear_id = ids.gear_id and s.athlete_id = ids.athlete_id
left join detail_rows d on d.gear_id = ids.gear_id and d.athlete_id = ids.athlete_id
left join not_found n on n.gear_id = ids.gear_id and n.athlete_id = ids.athlete_id
where ids.gear_id is not null
"""

_ATHLETES_SQL = """
with touched as (
    select distinct athlete_id from landing
    where batch_id in (select batch_id from pending_batches) and endpoint = 'athlete'
),
profile as (
    select l.athlete_id, l.payload, l.fetched_at,
           row_number() over (partition by l.athlete_id order by l.landing_id desc) as newest
    from landing l join touched using (athlete_id)
    where l.endpoint = 'athlete' and l.payload is not null
)
select a.athlete_id,
       coalesce(p.payload->>'firstname', a.firstname) as firstname,
       coalesce(p.payload->>'lastname', a.lastname) as lastname,
       coalesce(p.payload->>'city', a.city) as city,
       coalesce(p.payload->>'country', a.country) as country,
       coalesce(p.payload->>'sex', a.sex) as sex,
       a.email, a.timezone, a.digest_enabled, a.needs_reauth, a.registered_at,
       p.fetched_at as profile_updated_at
from profile p join athletes a using (athlete_id)
where p.newest = 1
"""


def _stream_features(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per activity: cadence, pace and heart rate in the first and last thirds of the time."""
    rows = con.execute(
        """
        with touched as (
            select distinct object_id from landing
            where batch_id in (select batch_id from pending_batches) and endpoint = 'streams'
        )
        select try_cast(l.object_id as bigint), l.athlete_id, l.landing_id, l.payload::varchar
        from landing l join touched using (object_id)
        where l.endpoint = 'streams' and l.payload is not null
        qualify row_number() over (partition by l.object_id order by l.landing_id desc) = 1
        """
    ).fetchall()
    out = [
        summarise_streams(activity_id, athlete_id, landing_id, text)
        for activity_id, athlete_id, landing_id, text in rows
    ]
    columns = table_columns(con, "stream_features")
    return pd.DataFrame([r for r in out if r is not None], columns=columns)


def _series(streams: object, key: str) -> list[float] | None:
    if isinstance(streams, list):  # key_by_type=false shape: [{"type": ..., "data": [...]}]
        streams = {s.get("type"): s for s in streams if isinstance(s, dict)}
    if not isinstance(streams, dict):
        return None
    entry = streams.get(key)
    data = entry.get("data") if isinstance(entry, dict) else None
    if not isinstance(data, list):
        return None
    values = []
    for v in data:
        try:
            values.append(float(v))
        except (TypeError, ValueError):
            values.append(math.nan)
    return values


def _mean(values: list[float]) -> float | None:
    good = [v for v in values if not math.isnan(v)]
    return sum(good) / len(good) if good else None


def summarise_streams(activity_id: int | None, athlete_id: int, landing_id: int, text: str) -> dict | None:
    """Summarise one streams payload; None when it has no usable time series."""
    if activity_id is None:
        return None
    try:
        streams = json.loads(text)
    except ValueError:
        return None
    time_s = _series(streams, "time")
    if not time_s or len(time_s) < 3:
        return None
    total = time_s[-1] - time_s[0]
    if not total or math.isnan(total) or total <= 0:
        return None
    lo, hi = time_s[0] + total / 3, time_s[0] + 2 * total / 3
    first = [i for i, t in enumerate(time_s) if t <= lo]
    last = [i for i, t in enumerate(time_s) if t >= hi]
    cadence = _series(streams, "cadence")
    heartrate = _series(streams, "heartrate")
    distance = _series(streams, "distance")

    def spm(idx: list[int]) -> float | None:
        if not cadence or len(cadence) != len(time_s):
            return None
        m = _mean([cadence[i] for i in idx if cadence[i] > 0])
        return None if m is None else 2 * m

    def pace(idx: list[int]) -> float | None:
        if not distance or len(distance) != len(time_s) or len(idx) < 2:
            return None
        dd = distance[idx[-1]] - distance[idx[0]]
        dt = time_s[idx[-1]] - time_s[idx[0]]
        return dt / dd * 1000 if dd > 0 and dt > 0 else None

    def hr(idx: list[int]) -> float | None:
        if not heartrate or len(heartrate) != len(time_s):
            return None
        return _mean([heartrate[i] for i in idx if heartrate[i] > 0])

    return {
        "activity_id": int(activity_id),
        "athlete_id": int(athlete_id),
        "sample_count": len(time_s),
        "duration_s": float(total),
        "first_third_spm": spm(first),
        "last_third_spm": spm(last),
        "first_third_pace_s_per_km": pace(first),
        "last_third_pace_s_per_km": pace(last),
        "first_third_hr": hr(first),
        "last_third_hr": hr(last),
        "cadence_samples": sum(1 for v in cadence or [] if v > 0),
        "heartrate_samples": sum(1 for v in heartrate or [] if v > 0),
        "landing_id": int(landing_id),
    }


def derive_frames(con: duckdb.DuckDBPyConnection, batch_ids: list[str]) -> dict[str, pd.DataFrame]:
    """Typed rows for every object touched by `batch_ids`, from its newest landed payloads."""
    con.execute("create or replace temp table pending_batches (batch_id varchar)")
    con.executemany("insert into pending_batches values (?)", [[b] for b in batch_ids])
    frames = {
        "athletes": con.execute(_ATHLETES_SQL).df(),
        "activities": con.execute(_ACTIVITY_SQL).df(),
        "splits": con.execute(_SPLITS_SQL).df(),
        "gear": con.execute(_GEAR_SQL).df(),
        "stream_features": _stream_features(con),
    }
    _log_problems(con, frames["activities"])
    return frames


def _log_problems(con: duckdb.DuckDBPyConnection, activities: pd.DataFrame) -> None:
    """Log landed payloads that could not be parsed or keyed (they stay in landing)."""
    for endpoint, object_id, error in con.execute(
        """select endpoint, object_id, parse_error from landing
           where batch_id in (select batch_id from pending_batches) and payload is null"""
    ).fetchall():
        log.warning("landing: %s %s could not be used: %s", endpoint, object_id or "(no id)", error or "missing id")
    if not activities.empty:
        bad = activities[activities["start_date"].isna() | activities["distance"].isna()]
        for activity_id in bad["activity_id"].tolist()[:50]:
            log.warning("activity %s: missing or unreadable start_date/distance", activity_id)


@dataclass
class IngestReport:
    batches: int = 0
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_merged: dict[str, int] = field(default_factory=dict)
    released: int = 0  # quarantined rows released by a re-check

    @property
    def quarantined(self) -> int:
        return sum(self.rows_in.values()) - sum(self.rows_merged.values())


def pending_batches(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    return con.execute(
        """select batch_id, any_value(athlete_id) from landing
           where batch_id not in (select batch_id from ingest_log)
           group by batch_id order by min(landing_id)"""
    ).fetchall()


def _default_validator() -> Validator:
    from pipeline.validation import validate_frames

    return validate_frames


def ingest_pending(con: duckdb.DuckDBPyConnection, validate: Validator | None = None) -> IngestReport:
    """Derive, validate and merge every landing batch not ingested yet (idempotent)."""
    report = IngestReport()
    batches = pending_batches(con)
    if not batches:
        return report
    validate = validate or _default_validator()
    batch_ids = [b for b, _ in batches]
    frames = derive_frames(con, batch_ids)
    label = batch_ids[0] if len(batch_ids) == 1 else f"{batch_ids[0]}+{len(batch_ids) - 1}"
    passed = validate(con, frames, label)
    con.execute("begin")
    try:
        for table in TYPED_TABLES:
            incoming = frames.get(table)
            ok = passed.get(table)
            report.rows_in[table] = 0 if incoming is None else len(incoming)
            if incoming is not None and not incoming.empty:
                _drop_rejected(con, table, incoming, ok)
                if table == "splits":
                    _clear_splits(con, incoming)
            report.rows_merged[table] = merge_frame(con, table, ok) if ok is not None else 0
        con.executemany(
            "insert or ignore into ingest_log (batch_id, athlete_id) values (?, ?)", [list(b) for b in batches]
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    report.batches = len(batches)
    return report


def _drop_rejected(con: duckdb.DuckDBPyConnection, table: str, incoming: pd.DataFrame, ok: pd.DataFrame | None) -> None:
    """A newer version that failed validation replaces the old row: remove the old one."""
    keys = PRIMARY_KEYS[table]
    rejected = incoming if ok is None or ok.empty else incoming.merge(ok[keys], on=keys, how="left", indicator=True)
    if ok is not None and not ok.empty:
        rejected = rejected[rejected["_merge"] == "left_only"]
    if rejected.empty:
        return
    con.register("rejected_keys", rejected[keys])
    try:
        cond = " and ".join(f't."{k}" = r."{k}"' for k in keys)
        con.execute(f'delete from "{table}" t where exists (select 1 from rejected_keys r where {cond})')
    finally:
        con.unregister("rejected_keys")


def _clear_splits(con: duckdb.DuckDBPyConnection, incoming: pd.DataFrame) -> None:
    """An activity's splits are replaced as a whole when its detail is re-fetched."""
    ids = pd.DataFrame({"activity_id": incoming["activity_id"].unique()})
    con.register("split_ids", ids)
    try:
        con.execute("delete from splits where activity_id in (select activity_id from split_ids)")
    finally:
        con.unregister("split_ids")


def rebuild_all(con: duckdb.DuckDBPyConnection, validate: Validator | None = None) -> IngestReport:
    """Forget what was ingested and derive every typed table again from landing."""
    for table in TYPED_TABLES:
        if table != "athletes":
            con.execute(f'delete from "{table}"')
    con.execute("delete from ingest_log")
    return ingest_pending(con, validate)


assert set(TYPED_TABLES) <= set(SCHEMA)
