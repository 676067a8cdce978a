"""Writing one athlete's sync to the warehouse: payloads landed and progress recorded together.

`write_progress` lands what was fetched and records the queue and paging position in one
transaction, so a crash never leaves landed payloads without the progress that explains them
(or the reverse). `ingest_and_release` turns landed payloads into typed rows.
"""

from __future__ import annotations

import duckdb

from pipeline.config import Settings
from pipeline.loading import IngestReport, ingest_pending, land, merge_frame
from pipeline.sync.records import Fetched, SyncResult
from pipeline.transaction import transaction
from pipeline.upsert import insert_missing_rows, upsert
from pipeline.warehouse import writer

MAX_FETCH_ATTEMPTS = 3


def write_progress(
    con: duckdb.DuckDBPyConnection, athlete_id: int, batch_id: str, got: Fetched, result: SyncResult, now: float
) -> None:
    """Land payloads and record progress in one transaction."""
    with transaction(con):
        result.landed = land(con, athlete_id, batch_id, got.items)
        _record_queue(con, athlete_id, got)
        _record_state(con, athlete_id, got, result, now)
        result.pending = con.execute("select count(*) from fetch_queue where athlete_id = ?", [athlete_id]).fetchall()[
            0
        ][0]
        result.more = bool(result.pending) or (not got.paging_done and got.resume_after is not None)
        result.failed_keys |= got.failed


def _record_queue(con: duckdb.DuckDBPyConnection, athlete_id: int, got: Fetched) -> None:
    """Queue new fetches, drop done ones, count failures (and give up after MAX_FETCH_ATTEMPTS)."""
    if got.enqueue:
        insert_missing_rows(
            con,
            "fetch_queue",
            ("athlete_id", "activity_id", "kind", "start_epoch", "object_id"),
            [(athlete_id, a, k, start, obj) for (a, k), (start, obj) in got.enqueue.items()],
        )
    if got.dequeue:
        con.executemany(
            "delete from fetch_queue where activity_id = ? and kind = ?", [[a, k] for (a, k) in got.dequeue]
        )
    if got.failed:
        con.executemany(
            "update fetch_queue set attempts = attempts + 1 where activity_id = ? and kind = ?",
            [[a, k] for (a, k) in got.failed],
        )
        con.execute("delete from fetch_queue where attempts >= ?", [MAX_FETCH_ATTEMPTS])


SYNC_STATE_COLUMNS = (
    "athlete_id",
    "cursor_epoch",
    "resume_after",
    "resume_page",
    "last_sync_at",
    "last_status",
    "last_message",
    "requests_used",
    "resume_before",
    "listed_epoch",
    "backlog_served_epoch",
)


def _record_state(
    con: duckdb.DuckDBPyConnection, athlete_id: int, got: Fetched, result: SyncResult, now: float
) -> None:
    """The cursor, the paging position (none once paging is done), and when it last listed or served."""
    paging = (None, None, None) if got.paging_done else (got.resume_after, got.resume_page, got.resume_before)
    upsert(
        con,
        "sync_state",
        """(select $1::bigint as athlete_id, $2::bigint as cursor_epoch, $3::bigint as resume_after,
                   $4::integer as resume_page, now() as last_sync_at, $5::varchar as last_status,
                   $6::varchar as last_message, $7::integer as requests_used, $8::bigint as resume_before,
                   case when $9 then $11 else (select listed_epoch from sync_state where athlete_id = $1)
                   end::bigint as listed_epoch,
                   case when $10 then $11 else (select backlog_served_epoch from sync_state where athlete_id = $1)
                   end::bigint as backlog_served_epoch)""",
        SYNC_STATE_COLUMNS,
        [
            athlete_id,
            got.cursor_epoch,
            paging[0],
            paging[1],
            result.status,
            result.message or None,
            result.requests,
            paging[2],
            got.listed,
            got.served,
            int(now),
        ],
    )


def mark_reauth(settings: Settings, athlete_id: int, result: SyncResult) -> None:
    """The athlete must authorise again: flag them and record the status, keeping their progress."""
    with writer(settings) as con:
        con.execute("update athletes set needs_reauth = true where athlete_id = ?", [athlete_id])
        upsert(
            con,
            "sync_state",
            """(select ?::bigint as athlete_id, cursor_epoch, resume_after, resume_page, now() as last_sync_at,
                       ?::varchar as last_status, ?::varchar as last_message, 0 as requests_used, resume_before,
                       listed_epoch, backlog_served_epoch
                from (select 1) left join sync_state on athlete_id = ?)""",
            SYNC_STATE_COLUMNS,
            [athlete_id, result.status, result.message, athlete_id],
        )


def ingest_and_release(con: duckdb.DuckDBPyConnection) -> IngestReport:
    """Ingest what was landed; when gear arrived, re-check the quarantine, so that runs held
    back only for their shoe (`run_gear_exists`), and their splits, are released at once."""
    report = ingest_pending(con)
    if report.rows_merged.get("gear"):
        from pipeline.validation import retry_quarantine

        released = retry_quarantine(con, merge_frame)
        report.released += sum(released.values())
    return report


def registered_athletes(con: duckdb.DuckDBPyConnection, athlete_id: int | None = None) -> list[int]:
    """Registered athlete ids (only `athlete_id` when given and registered), in id order."""
    sql = "select athlete_id from athletes"
    params: list[object] = []
    if athlete_id is not None:
        sql += " where athlete_id = ?"
        params.append(athlete_id)
    return [r[0] for r in con.execute(sql + " order by athlete_id", params).fetchall()]
