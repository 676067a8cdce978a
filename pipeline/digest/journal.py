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
    }
    fd = os.open(journal_path(settings), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def replay_journal(settings: Settings) -> int:
    """Record as sent every journaled delivery that digest_log lacks, and republish the replica.

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
    if not settings.warehouse_path.exists():
        return len(entries)
    # Always a writer section, even with nothing to replay: it checkpoints and republishes the
    # replica, which is what `connect_reader` reads. A run killed mid-batch recorded its rows in
    # the warehouse but never republished, and reading a stale digest_log would send them again.
    with writer(settings) as con, transaction(con):
        for e in entries:
            con.execute(
                """insert into digest_log (athlete_id, week_start, status, attempts, sent_at, message_id,
                                               transport, error)
                       values (?, ?, 'sent', 1, ?, ?, ?, null)
                       on conflict (athlete_id, week_start) do update set
                           status = 'sent', attempts = digest_log.attempts + 1, sent_at = excluded.sent_at,
                           message_id = excluded.message_id, transport = excluded.transport, error = null
                       where digest_log.status <> 'sent'
                          or digest_log.message_id is distinct from excluded.message_id""",
                [
                    int(e["athlete_id"]),
                    dt.date.fromisoformat(e["week_start"]),
                    dt.datetime.fromisoformat(e["sent_at"]) if e.get("sent_at") else None,
                    e.get("message_id"),
                    e.get("transport"),
                ],
            )
    path.unlink(missing_ok=True)
    return len(entries)


def record(settings: Settings, result: DigestResult, transport: str) -> None:
    """Write one athlete's outcome now. A failure never downgrades an earlier 'sent'."""
    with writer(settings, publish=False) as con:
        con.execute(
            """insert into digest_log (athlete_id, week_start, status, attempts, sent_at, message_id, transport, error)
               values (?, ?, ?, 1, ?, ?, ?, ?)
               on conflict (athlete_id, week_start) do update set
                   attempts   = digest_log.attempts + 1,
                   status     = case when excluded.status = 'failed' and digest_log.status = 'sent'
                                     then digest_log.status else excluded.status end,
                   sent_at    = coalesce(excluded.sent_at, digest_log.sent_at),
                   message_id = coalesce(excluded.message_id, digest_log.message_id),
                   transport  = case when excluded.status = 'failed' and digest_log.status = 'sent'
                                     then digest_log.transport else excluded.transport end,
                   error      = excluded.error""",
            [
                result.athlete_id,
                result.week_start,
                "sent" if result.status == "sent" else "failed",
                dt.datetime.now(dt.UTC) if result.status == "sent" else None,
                result.message_id or result.path,
                transport,
                result.error,
            ],
        )
