"""Landing raw API payloads: every body is appended to `landing` as it came.

Identical re-fetches are skipped by hash, so the typed tables can always be rebuilt from
landing; whatever DuckDB cannot hold as JSON is kept as text with the reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pandas as pd

from pipeline.ids import ordered_ids
from pipeline.sql_files import sql_query

log = logging.getLogger(__name__)

# (payload, raw_text, parse_error) of one body, as stored
Stored = tuple[str | None, str | None, str | None]


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


def utf8_safe(text: str) -> str:
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
    return _ESCAPE.sub(lambda m: "\\ufffd" if m.group(3) else m.group(0), utf8_safe(text))


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


def _storable(con: duckdb.DuckDBPyConnection, rows: list[LandingItem]) -> list[Stored]:
    """(payload, raw_text, parse_error) per item, in a form DuckDB stores without error.

    A body DuckDB's JSON type refuses (a lone UTF-16 surrogate escape, `"Run \\ud83d"`) is kept
    exactly as sent in `raw_text`, and `payload` holds it with each lone surrogate replaced by
    U+FFFD, so every field can still be derived: `raw_text` beside a `payload` means "payload
    is a repaired copy of this text". A body that is not JSON even then keeps `payload` null
    and says why in `parse_error`.
    """
    out: list[Stored] = []
    for r in rows:
        raw = None if r.raw_text is None else utf8_safe(r.raw_text)
        out.append((None if r.payload is None else utf8_safe(r.payload), raw, r.parse_error))
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


def _landing_frame(athlete_id: int, batch_id: str, rows: list[LandingItem], stored: list[Stored]) -> pd.DataFrame:
    """The landing rows of `rows` (without their landing ids), `pos` in order of arrival."""
    return pd.DataFrame(
        {
            "pos": range(len(rows)),
            "athlete_id": [int(athlete_id)] * len(rows),
            "endpoint": [r.endpoint for r in rows],
            "object_id": [None if r.object_id is None else utf8_safe(r.object_id) for r in rows],
            "fetched_at": [r.fetched_at for r in rows],
            "batch_id": [batch_id] * len(rows),
            "payload": [s[0] for s in stored],
            "raw_text": [s[1] for s in stored],
            "parse_error": [s[2] for s in stored],
            "payload_hash": [r.digest for r in rows],
        }
    )


def _new_positions(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> list[int]:
    """Positions of the bodies in `frame` not landed yet (see sql/landing/new_positions.sql)."""
    con.register("incoming_landing", frame)
    try:
        return [int(p) for (p,) in con.execute(sql_query("landing/new_positions")).fetchall()]
    finally:
        con.unregister("incoming_landing")


def land(con: duckdb.DuckDBPyConnection, athlete_id: int, batch_id: str, items: Iterable[LandingItem]) -> int:
    """Append payloads to `landing` in one bulk insert; skip bodies already stored for that object.

    Never fails on a body: whatever DuckDB cannot hold as JSON is stored as text (see
    `_storable`). Landing ids follow the order of `items` (the order of arrival).
    """
    rows = list(items)
    if not rows:
        return 0
    frame = _landing_frame(athlete_id, batch_id, rows, _storable(con, rows))
    fresh = _new_positions(con, frame)
    if not fresh:
        return 0
    ids = ordered_ids(len(fresh))  # increasing, in the order of arrival
    con.register("incoming_landing", frame.iloc[fresh].assign(landing_id=ids))
    try:
        con.execute(sql_query("landing/insert_landing"))
    finally:
        con.unregister("incoming_landing")
    return len(fresh)
