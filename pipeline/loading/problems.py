"""Landing problems: elements and bodies of the pending batches that cannot become rows.

They go to `quarantine` (table_name 'landing') with a reason; the body stays in landing.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd

from pipeline.sql_files import sql_query

log = logging.getLogger(__name__)

# Quarantined elements that never reached a typed table: their `table_name`. Not a validated
# table, so `validate --retry-quarantine` leaves them alone (no suite edit can type them);
# a newer landing of the same activity id supersedes them.
LANDING_QUARANTINE = "landing"

PROBLEM_REASONS = {
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


def landing_problems(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Elements and bodies of the pending batches that cannot become rows (after `derive_frames`)."""
    elements = con.execute(sql_query("derive/activity_problems")).df()
    bodies = con.execute(sql_query("derive/body_problems")).df()
    if bodies.empty:
        return elements
    return bodies if elements.empty else pd.concat([elements, bodies], ignore_index=True)


def quarantine_problems(con: duckdb.DuckDBPyConnection, problems: pd.DataFrame, batch_label: str) -> int:
    """Write landing problems to `quarantine` with their reason; the body stays in landing."""
    if problems.empty:
        return 0
    rows = problems.assign(
        reason=[PROBLEM_REASONS.get(p, p) for p in problems["problem"]],
    ).drop_duplicates("record_key", keep="last")
    params = {"table_name": LANDING_QUARANTINE, "batch_label": batch_label}
    con.register("__landing_problems", rows)
    try:
        con.execute(sql_query("landing/supersede_problems"), params)
        con.execute(sql_query("landing/quarantine_problems"), params)
    finally:
        con.unregister("__landing_problems")
    for problem, n in rows["problem"].value_counts().items():
        log.warning("landing: %d element(s) held back: %s", n, PROBLEM_REASONS.get(problem, problem))
    return len(rows)
