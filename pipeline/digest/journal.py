"""The exactly-once record of deliveries: the `digest_log` rows and the journal that covers their gap.

A `sent` row means the server accepted the message; a later run skips it unless `resend`.
Each accepted delivery is appended to `digest_sent.jsonl` before its row is written, so a
process killed in between does not send it again: the next run replays the journal first.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from pipeline import lake
from pipeline.config import Settings
from pipeline.digest.report import DigestResult
from pipeline.transaction import transaction
from pipeline.warehouse import writer


def journal_path(settings: Settings) -> Path:
    return settings.home / "digest_sent.jsonl"


def journal_sent(settings: Settings, result: DigestResult, transport: str) -> None:
    """Note a delivery the moment the server accepted it, before its digest_log row.

    The row needs the write lock and a DuckDB connection (tens of milliseconds); a process
    killed in that gap would otherwise send the message again on the next run. Once
    `os.write` returns the line survives a killed process; the fsync covers a power cut.
    """
    entry = {
        "athlete_id": result.athlete_id,
        "week_start": result.week_start.isoformat() if result.week_start else None,
        "message_id": result.message_id,
        "transport": transport,
        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
        "snapshot_id": result.snapshot_id,
    }
    fd = os.open(journal_path(settings), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def replay_journal(settings: Settings) -> int:
    """Record as sent every journaled delivery that digest_log lacks.

    Idempotent: a delivery already recorded with the same message id is left alone. Returns
    how many journal lines were replayed.
    """
    path = journal_path(settings)
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line torn by the crash: its write never completed, so neither did its fsync
        if isinstance(entry, dict) and entry.get("athlete_id") is not None and entry.get("week_start"):
            entries.append(entry)
    if not lake.catalog_exists(settings):
        return len(entries)
    if entries:
        with writer(settings) as con, transaction(con):
            for e in entries:
                con.execute(
                    """merge into digest_log as t
                       using (select ?::bigint as athlete_id, ?::date as week_start, ?::timestamptz as sent_at,
                                     ?::varchar as message_id, ?::varchar as transport, ?::bigint as snapshot_id) as s
                          on (t.athlete_id = s.athlete_id and t.week_start = s.week_start)
                       when matched and (t.status <> 'sent' or t.message_id is distinct from s.message_id) then
                           update set status = 'sent', attempts = t.attempts + 1, sent_at = s.sent_at,
                                      message_id = s.message_id, transport = s.transport, error = null,
                                      snapshot_id = coalesce(s.snapshot_id, t.snapshot_id)
                       when not matched then
                           insert (athlete_id, week_start, status, attempts, sent_at, message_id, transport, error,
                                   snapshot_id)
                           values (s.athlete_id, s.week_start, 'sent', 1, s.sent_at, s.message_id, s.transport, null,
                                   s.snapshot_id)""",
                    [
                        int(e["athlete_id"]),
                        dt.date.fromisoformat(e["week_start"]),
                        dt.datetime.fromisoformat(e["sent_at"]) if e.get("sent_at") else None,
                        e.get("message_id"),
                        e.get("transport"),
                        e.get("snapshot_id"),
                    ],
                )
    path.unlink(missing_ok=True)
    return len(entries)


def record(settings: Settings, result: DigestResult, transport: str) -> None:
    """Write one athlete's outcome now. A failure never downgrades an earlier 'sent'."""
    with writer(settings) as con:
        con.execute(
            """merge into digest_log as t
               using (select ?::bigint as athlete_id, ?::date as week_start, ?::varchar as status,
                             ?::timestamptz as sent_at, ?::varchar as message_id, ?::varchar as transport,
                             ?::varchar as error, ?::bigint as snapshot_id) as s
                  on (t.athlete_id = s.athlete_id and t.week_start = s.week_start)
               when matched then update set
                   attempts   = t.attempts + 1,
                   status     = case when s.status = 'failed' and t.status = 'sent' then t.status else s.status end,
                   sent_at    = coalesce(s.sent_at, t.sent_at),
                   message_id = coalesce(s.message_id, t.message_id),
                   transport  = case when s.status = 'failed' and t.status = 'sent'
                                     then t.transport else s.transport end,
                   error      = s.error,
                   snapshot_id = case when s.status = 'failed' and t.status = 'sent'
                                      then t.snapshot_id else coalesce(s.snapshot_id, t.snapshot_id) end
               when not matched then
                   insert (athlete_id, week_start, status, attempts, sent_at, message_id, transport, error, snapshot_id)
                   values (s.athlete_id, s.week_start, s.status, 1, s.sent_at, s.message_id, s.transport, s.error,
                           s.snapshot_id)""",
            [
                result.athlete_id,
                result.week_start,
                "sent" if result.status == "sent" else "failed",
                dt.datetime.now(dt.UTC) if result.status == "sent" else None,
                result.message_id or result.path,
                transport,
                result.error,
                result.snapshot_id,
            ],
        )
