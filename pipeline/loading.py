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
import re
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


def _utf8_safe(text: str) -> str:
    """`text` with any lone surrogate characters written as `\\udXXX` (DuckDB needs valid UTF-8)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


# A JSON string escape: a surrogate pair, a lone high or low surrogate, or any other escape
# (matched left to right, so an escaped backslash is consumed whole and never starts a match).
_ESCAPE = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u(d[89a-f][0-9a-f]{2})|\\.", re.IGNORECASE)


def repair_json_text(text: str) -> str:
    """The JSON text with every lone UTF-16 surrogate escape (`\\ud83d` without its partner),
    which DuckDB's JSON type refuses, replaced by U+FFFD (`\\ufffd`); all else unchanged."""
    return _ESCAPE.sub(lambda m: "\\ufffd" if m.group(3) else m.group(0), _utf8_safe(text))


def _json_problems(con: duckdb.DuckDBPyConnection, texts: dict[int, str]) -> set[int]:
    """The keys of `texts` whose text DuckDB's JSON type cannot hold."""
    if not texts:
        return set()
    frame = pd.DataFrame({"pos": list(texts), "text": list(texts.values())})
    con.register("__json_check", frame)
    try:
        rows = con.execute("select pos from __json_check where try_cast(text as json) is null").fetchall()
    finally:
        con.unregister("__json_check")
    return {int(p) for (p,) in rows}


def _duckdb_json_error(con: duckdb.DuckDBPyConnection, text: str) -> str:
    try:
        con.execute("select ?::json", [text]).fetchall()
    except duckdb.Error as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        return first.split("  Input:")[0][:300]
    return "not valid JSON"


def _storable(
    con: duckdb.DuckDBPyConnection, rows: list[LandingItem]
) -> list[tuple[str | None, str | None, str | None]]:
    """(payload, raw_text, parse_error) per item, in a form DuckDB stores without error.

    A body DuckDB's JSON type refuses (a lone UTF-16 surrogate escape, `"Run \\ud83d"`) is kept
    exactly as sent in `raw_text`, and `payload` holds it with each lone surrogate replaced by
    U+FFFD, so every field can still be derived: `raw_text` beside a `payload` means "payload
    is a repaired copy of this text". A body that is not JSON even then keeps `payload` null
    and says why in `parse_error`.
    """
    out: list[tuple[str | None, str | None, str | None]] = []
    for r in rows:
        raw = None if r.raw_text is None else _utf8_safe(r.raw_text)
        out.append((None if r.payload is None else _utf8_safe(r.payload), raw, r.parse_error))
    refused = _json_problems(con, {i: p for i, (p, _, _) in enumerate(out) if p is not None})
    if not refused:
        return out
    repaired = {i: repair_json_text(out[i][0]) for i in refused}  # type: ignore[arg-type]
    still = _json_problems(con, repaired)
    for i in refused:
        original = out[i][0]
        if i in still:
            out[i] = (None, original, f"not JSON that DuckDB can store: {_duckdb_json_error(con, original)}")  # type: ignore[arg-type]
            log.warning("landing: a %s body is not storable JSON; kept as text", rows[i].endpoint)
        else:
            out[i] = (repaired[i], original, None)
            log.info("landing: a %s body had lone UTF-16 surrogates; kept as sent in raw_text", rows[i].endpoint)
    return out


def land(con: duckdb.DuckDBPyConnection, athlete_id: int, batch_id: str, items: Iterable[LandingItem]) -> int:
    """Append payloads to `landing` in one bulk insert; skip bodies already stored for that object.

    Never fails on a body: whatever DuckDB cannot hold as JSON is stored as text (see
    `_storable`). Landing ids follow the order of `items` (the order of arrival).
    """
    rows = list(items)
    if not rows:
        return 0
    stored = _storable(con, rows)
    frame = pd.DataFrame(
        {
            "pos": range(len(rows)),
            "athlete_id": [int(athlete_id)] * len(rows),
            "endpoint": [r.endpoint for r in rows],
            "object_id": [None if r.object_id is None else _utf8_safe(r.object_id) for r in rows],
            "fetched_at": [r.fetched_at for r in rows],
            "batch_id": [batch_id] * len(rows),
            "payload": [s[0] for s in stored],
            "raw_text": [s[1] for s in stored],
            "parse_error": [s[2] for s in stored],
            "payload_hash": [r.digest for r in rows],
        }
    )
    con.register("incoming_landing", frame)
    try:
        fresh = [
            int(p)
            for (p,) in con.execute(
                """
                select i.pos
                from (select *, row_number() over (partition by endpoint, object_id, payload_hash order by pos) as dup
                      from incoming_landing) i
                where i.dup = 1 and not exists (
                    select 1 from landing l
                    where l.endpoint = i.endpoint and l.object_id is not distinct from i.object_id
                      and l.payload_hash = i.payload_hash and l.athlete_id = i.athlete_id)
                order by i.pos
                """
            ).fetchall()
        ]
    finally:
        con.unregister("incoming_landing")
    if not fresh:
        return 0
    # nextval() in an INSERT ... SELECT numbers rows in no particular order: draw the ids first
    ids = sorted(int(i) for (i,) in con.execute("select nextval('landing_seq') from range(?)", [len(fresh)]).fetchall())
    new = frame.iloc[fresh].assign(landing_id=ids)
    con.register("incoming_landing", new)
    try:
        con.execute(
            """
            insert into landing
            select landing_id, athlete_id, endpoint, object_id, fetched_at, batch_id,
                   payload::json, raw_text, parse_error, payload_hash
            from incoming_landing order by pos
            """
        )
    finally:
        con.unregister("incoming_landing")
    return len(fresh)


def merge_frame(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> int:
    """Upsert rows into `table` by its primary key, in bulk."""
    if df is None or df.empty:
        return 0
    cols = [c for c in table_columns(con, table) if c in df.columns]
    # a NULL for a NOT NULL column that has a default (a column added later, a row typed
    # before it existed) takes the default instead of failing the whole merge
    defaults = dict(
        con.execute(
            """select column_name, column_default from duckdb_columns()
               where table_name = ? and database_name = current_database() and schema_name = 'main'
                 and not is_nullable and column_default is not null""",
            [table],
        ).fetchall()
    )
    name = f"incoming_{table}"
    con.register(name, df[cols])
    try:
        col_list = ", ".join(f'"{c}"' for c in cols)
        values = ", ".join(f'coalesce("{c}", {defaults[c]})' if c in defaults else f'"{c}"' for c in cols)
        con.execute(f'insert or replace into "{table}" ({col_list}) select {values} from "{name}"')
    finally:
        con.unregister(name)
    return len(df)


# --- deriving typed rows -------------------------------------------------------------------

# The fields read from activity bodies and how each is read. Every field is read on its own
# from the element's JSON (one parse per element for all of them), so one unreadable field never
# blanks the others: a value of the wrong type, a number that does not fit, NaN or Infinity
# becomes NULL (for validation to catch where the field is required); numbers and booleans
# sent as text ("5000.5", "true") and numeric gear ids (12345) are read as what they mean.
ACTIVITY_FIELDS: dict[str, str] = {
    "name": "text",
    "description": "text",
    "sport_type": "string",
    "type": "string",
    "start_date": "string",
    "start_date_local": "string",
    "timezone": "string",
    "distance": "number",
    "moving_time": "number",
    "elapsed_time": "number",
    "total_elevation_gain": "number",
    "average_speed": "number",
    "max_speed": "number",
    "average_cadence": "number",
    "average_heartrate": "number",
    "max_heartrate": "number",
    "gear_id": "id",
    "trainer": "boolean",
    "manual": "boolean",
    "workout_type": "number",
}
_NUMERIC_JSON = "('BIGINT', 'UBIGINT', 'DOUBLE')"


def _field_sql(index: int, kind: str) -> str:
    v, t = f"v[{index}]", f"t[{index}]"
    if kind == "string":
        return f"case when {t} = 'VARCHAR' then {v} end"
    if kind == "text":  # free text: a number or boolean sent instead is kept as its text
        return f"case when {t} = 'VARCHAR' or {t} in {_NUMERIC_JSON} or {t} = 'BOOLEAN' then {v} end"
    if kind == "id":
        return f"case when {t} = 'VARCHAR' or {t} in ('BIGINT', 'UBIGINT') then nullif({v}, '') end"
    if kind == "number":
        return (
            f"case when ({t} in {_NUMERIC_JSON} or {t} = 'VARCHAR') and isfinite(try_cast({v} as double)) "
            f"then try_cast({v} as double) end"
        )
    if kind == "boolean":
        return (
            f"case when {t} = 'BOOLEAN' then {v} = 'true' "
            f"when {t} = 'VARCHAR' and lower(trim({v})) in ('true', 'false') then lower(trim({v})) = 'true' "
            f"when {t} in ('BIGINT', 'UBIGINT') and {v} in ('0', '1') then {v} = '1' end"
        )
    raise ValueError(kind)


_PATHS = "[" + ", ".join(f"'$.{name}'" for name in ACTIVITY_FIELDS) + "]"
_ACTIVITY_STRUCT = ", ".join(
    f"{name} := {_field_sql(i, kind)}" for i, (name, kind) in enumerate(ACTIVITY_FIELDS.items(), start=1)
)

# Every element of the list pages and every detail body of the athletes touched by the
# pending batches, with its id checked: `problem` names why an element cannot become an
# activity row (it then goes to quarantine with that reason; the body stays in landing).
_ACTIVITY_ITEMS_SQL = """
create or replace temp table activity_items as
with touched_athletes as (
    select distinct athlete_id from landing
    where batch_id in (select batch_id from pending_batches)
      and endpoint in ('activities_page', 'activity_detail') and payload is not null
),
bodies as (
    select l.landing_id, l.athlete_id, l.batch_id, l.endpoint, l.payload, json_type(l.payload) as body_type
    from landing l join touched_athletes using (athlete_id)
    where l.endpoint in ('activities_page', 'activity_detail') and l.payload is not null
),
items as (
    select landing_id, athlete_id, batch_id, endpoint, 'summary' as kind,
           unnest(payload->'$[*]') as element, generate_subscripts(payload->'$[*]', 1) as ordinal
    from bodies where endpoint = 'activities_page' and body_type = 'ARRAY'
    union all
    select landing_id, athlete_id, batch_id, endpoint, case when endpoint = 'activity_detail' then 'detail' else 'summary' end,
           payload, 0
    from bodies where endpoint = 'activity_detail' or body_type <> 'ARRAY'
),
checked as (
    select *, json_type(element) as element_type, json_type(element, '$.id') as id_type,
           json_extract_string(element, '$.id') as id_text
    from items
),
keyed as (
    select *,
           case when id_type in ('BIGINT', 'UBIGINT') then try_cast(id_text as bigint) end as id,
           case
               when endpoint = 'activities_page' and ordinal = 0 then 'activities_page_not_a_list'
               when element_type is distinct from 'OBJECT' then 'activity_not_an_object'
               when id_type is null or id_type = 'NULL' then 'activity_id_missing'
               when id_type = 'VARCHAR' then 'activity_id_is_text'
               when id_type in ('BIGINT', 'UBIGINT', 'DOUBLE') and regexp_full_match(id_text, '-?[0-9]+')
                    and try_cast(id_text as bigint) is null then 'activity_id_out_of_range'
               when id_type not in ('BIGINT', 'UBIGINT') then 'activity_id_not_an_integer'
               when try_cast(id_text as bigint) <= 0 then 'activity_id_not_positive'
           end as problem
    from checked
)
select *,
       -- a second copy of an id in one page: identical copies are one activity; a copy that
       -- differs is held back (the first in page order is loaded)
       case when problem is null and kind = 'summary' then
           row_number() over (partition by landing_id, id order by ordinal) end as copy,
       case when problem is null and kind = 'summary' then
           first(element::varchar) over (partition by landing_id, id order by ordinal) end as first_copy
from keyed
"""

_ACTIVITY_SQL = f"""
with typed as (
    select landing_id, athlete_id, batch_id, kind, ordinal,
           struct_pack(id := id, {_ACTIVITY_STRUCT}) as a
    from (select *, json_extract_string(element, {_PATHS}) as v, json_type(element, {_PATHS}) as t
          from activity_items where problem is null and coalesce(copy, 1) = 1)
),
touched as (select distinct a.id from typed where batch_id in (select batch_id from pending_batches)),
versions as (select * from typed where a.id in (select id from touched)),
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
where latest.a.id not in (select activity_id from deleted_activities)
"""

_PROBLEM_REASONS = {
    "activities_page_not_a_list": "an activity list page that is not a JSON list",
    "activity_not_an_object": "an element of an activity list page that is not a JSON object",
    "activity_id_missing": "an activity without an id",
    "activity_id_is_text": "an activity id sent as text, not as an integer",
    "activity_id_out_of_range": "an activity id too large for a 64-bit integer (BIGINT)",
    "activity_id_not_an_integer": "an activity id that is not an integer",
    "activity_id_not_positive": "an activity id that is zero or negative",
    "activity_id_repeated_in_page": "a second, different copy of an activity id in one list page (the first is loaded)",
    "streams_not_an_object_or_list": "a streams body that is neither a JSON object nor a list",
    "streams_unrecognised_shape": "a streams body whose entries are not stream objects",
    "gear_not_an_object": "a gear body that is not a JSON object",
}

# Elements of this batch's activity bodies that cannot become activity rows, one per
# element, ready for quarantine (table_name 'landing').
_ACTIVITY_PROBLEMS_SQL = """
select case when id_text is not null and problem not in ('activities_page_not_a_list', 'activity_not_an_object')
            then 'activity:' || id_text || case when problem = 'activity_id_repeated_in_page'
                                                then ':copy' || copy else '' end
            else endpoint || ':' || landing_id || ':' || ordinal end as record_key,
       athlete_id, try_cast(id_text as bigint) as activity_id, problem, landing_id, endpoint, ordinal,
       case when length(element::varchar) <= 100000 then element end as element,
       length(element::varchar) as element_chars
from (select * replace (case when problem is null and copy > 1 and element::varchar <> first_copy
                             then 'activity_id_repeated_in_page' else problem end as problem)
      from activity_items)
where problem is not null and batch_id in (select batch_id from pending_batches)
order by landing_id, ordinal
"""

_SPLITS_SQL_TEMPLATE = """
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
       {distance} as distance,
       try_cast({elapsed_time} as integer) as elapsed_time,
       try_cast({moving_time} as integer) as moving_time,
       {average_speed} as average_speed,
       {average_heartrate} as average_heartrate,
       {elevation_difference} as elevation_difference,
       try_cast({pace_zone} as integer) as pace_zone
from items
-- a detail whose id does not fit is quarantined as a landing problem; no splits are derived from it
where activity_id is not null and activity_id not in (select activity_id from deleted_activities)
"""


def _finite(expr: str) -> str:
    """SQL: `expr` as a double, NULL unless it is a finite number (NaN and Infinity are not data)."""
    return f"case when isfinite(try_cast({expr} as double)) then try_cast({expr} as double) end"


_SPLITS_SQL = _SPLITS_SQL_TEMPLATE.format(
    **{
        name: _finite(f"s->>'{name}'")
        for name in (
            "distance",
            "elapsed_time",
            "moving_time",
            "average_speed",
            "average_heartrate",
            "elevation_difference",
            "pace_zone",
        )
    }
)

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
            number = float(v)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        values.append(number if math.isfinite(number) else math.nan)
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
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
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
    con.execute(_ACTIVITY_ITEMS_SQL)
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


# Streams and gear bodies of the pending batches whose shape no derivation can read. A valid
# shape without a usable time series (a manual entry, a distance-only recording) is no problem:
# it simply gives no stream summary.
_BODY_PROBLEMS_SQL = """
select endpoint || ':' || coalesce(object_id, '') || ':' || landing_id as record_key, athlete_id,
       case when endpoint = 'streams' then try_cast(object_id as bigint) end as activity_id, problem,
       landing_id, endpoint, 0 as ordinal,
       case when length(payload::varchar) <= 100000 then payload end as element,
       length(payload::varchar) as element_chars
from (
    select *,
           case when endpoint = 'gear' and json_type(payload) <> 'OBJECT' then 'gear_not_an_object'
                when endpoint = 'streams' and json_type(payload) not in ('OBJECT', 'ARRAY')
                    then 'streams_not_an_object_or_list'
                when endpoint = 'streams'
                     and exists (select 1 from unnest(list_concat(json_extract(payload, '$[*]'), json_extract(payload, '$.*')))
                                      as e (entry)
                                 where json_type(e.entry) <> 'OBJECT')
                    then 'streams_unrecognised_shape'
           end as problem
    from landing
    where batch_id in (select batch_id from pending_batches) and endpoint in ('streams', 'gear')
      and payload is not null
)
where problem is not null
order by landing_id
"""


def landing_problems(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Elements and bodies of the pending batches that cannot become rows (after `derive_frames`)."""
    elements = con.execute(_ACTIVITY_PROBLEMS_SQL).df()
    bodies = con.execute(_BODY_PROBLEMS_SQL).df()
    if bodies.empty:
        return elements
    return bodies if elements.empty else pd.concat([elements, bodies], ignore_index=True)


# Quarantined elements that never reached a typed table: their `table_name`. Not a validated
# table, so `validate --retry-quarantine` leaves them alone (no suite edit can type them);
# a newer landing of the same activity id supersedes them.
LANDING_QUARANTINE = "landing"


def quarantine_problems(con: duckdb.DuckDBPyConnection, problems: pd.DataFrame, batch_label: str) -> int:
    """Write landing problems to `quarantine` with their reason; the body stays in landing."""
    if problems.empty:
        return 0
    rows = problems.assign(
        reason=[_PROBLEM_REASONS.get(p, p) for p in problems["problem"]],
    ).drop_duplicates("record_key", keep="last")
    con.register("__landing_problems", rows)
    try:
        con.execute(
            """update quarantine set superseded_by = ?, released_at = now()
               where table_name = ? and batch_id <> ? and released_at is null and superseded_by is null
                 and record_key in (select record_key from __landing_problems)""",
            [batch_label, LANDING_QUARANTINE, batch_label],
        )
        con.execute(
            """insert or replace into quarantine
                 (table_name, record_key, athlete_id, activity_id, batch_id, failed_expectations,
                  row_json, quarantined_at, released_at, superseded_by)
               select ?, record_key, athlete_id, activity_id, ?, [problem],
                      json_object('reason', reason, 'endpoint', endpoint, 'landing_id', landing_id,
                                  'ordinal', ordinal, 'element_chars', element_chars,
                                  'element', element),
                      now(), null, null
               from __landing_problems""",
            [LANDING_QUARANTINE, batch_label],
        )
    finally:
        con.unregister("__landing_problems")
    for problem, n in rows["problem"].value_counts().items():
        log.warning("landing: %d element(s) held back: %s", n, _PROBLEM_REASONS.get(problem, problem))
    return len(rows)


@dataclass
class IngestReport:
    batches: int = 0
    rows_in: dict[str, int] = field(default_factory=dict)
    rows_merged: dict[str, int] = field(default_factory=dict)
    released: int = 0  # quarantined rows released by a re-check
    landing_problems: int = 0  # elements that could not become rows, quarantined with a reason

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
    problems = landing_problems(con)
    label = batch_ids[0] if len(batch_ids) == 1 else f"{batch_ids[0]}+{len(batch_ids) - 1}"
    passed = validate(con, frames, label)
    con.execute("begin")
    try:
        report.landing_problems = quarantine_problems(con, problems, label)
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
