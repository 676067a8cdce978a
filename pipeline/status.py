"""What an operator checks first (`backstride status`): read from the warehouse without its write lock.

Everything comes through `connect_reader` (the lake's last committed snapshot), so asking
never blocks a sync or a build. A warehouse made by an older release may lack a table
(`build_log`, `webhook_events`): that reads as "none", not as an error.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.build_log import BuildRecord, last_build
from pipeline.config import Settings
from pipeline.migrations import current_version, latest_version
from pipeline.warehouse import connect_reader


@dataclass
class Status:
    """The warehouse at a glance; `exists` False means nothing else was read."""

    warehouse_path: Path  # the lake's catalog
    exists: bool
    latest_version: int
    data_path: Path | None = None
    engine: str = "DuckLake (SQLite catalog)"
    snapshot_id: int | None = None
    snapshot_at: datetime.datetime | None = None
    data_files: int = 0
    size_bytes: int = 0
    schema_version: int = 0
    athletes: int = 0
    needs_reauth: int = 0
    activities: int = 0
    last_sync_at: datetime.datetime | None = None
    last_build: BuildRecord | None = None
    open_quarantine: dict[str, int] = field(default_factory=dict)  # table -> rows held back
    webhook_events_processed: int = 0
    last_webhook_at: datetime.datetime | None = None
    inbox_events: int = 0  # received, waiting in the inbox for `backstride webhooks process`


def collect_status(settings: Settings) -> Status:
    """Read the status of the warehouse at `settings.home` (never writes, never takes the lock)."""
    status = Status(
        settings.catalog_path,
        exists=settings.warehouse_exists(),
        latest_version=latest_version(),
        data_path=settings.data_path,
    )
    status.inbox_events = _inbox_events(settings)
    if not status.exists:
        return status
    con = connect_reader(settings)
    try:
        _read_tables(con, status)
        _read_snapshot(con, status)
    finally:
        con.close()
    files = [p for p in settings.data_path.rglob("*") if p.is_file()] if settings.data_path.exists() else []
    status.data_files = len(files)
    status.size_bytes = settings.catalog_path.stat().st_size + sum(p.stat().st_size for p in files)
    return status


def _read_snapshot(con: duckdb.DuckDBPyConnection, status: Status) -> None:
    row = con.execute(
        "select snapshot_id, snapshot_time from ducklake_snapshots('lake') order by snapshot_id desc limit 1"
    ).fetchone()
    if row:
        status.snapshot_id, status.snapshot_at = int(row[0]), row[1]


def _read_tables(con: duckdb.DuckDBPyConnection, status: Status) -> None:
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
    status.schema_version = current_version(con)
    if "athletes" in tables:
        status.athletes, status.needs_reauth = _one(
            con, "select count(*), count(*) filter (where needs_reauth) from athletes"
        )
    if "activities" in tables:
        (status.activities,) = _one(con, "select count(*) from activities")
    if "sync_state" in tables:
        (status.last_sync_at,) = _one(con, "select max(last_sync_at) from sync_state")
    status.last_build = last_build(con)
    if "quarantine" in tables:
        rows = con.execute(
            """select table_name, count(*) from quarantine where released_at is null
               group by table_name order by table_name"""
        ).fetchall()
        status.open_quarantine = {t: int(n) for t, n in rows}
    if "webhook_events" in tables:
        status.webhook_events_processed, status.last_webhook_at = _one(
            con, "select count(*), max(processed_at) from webhook_events"
        )


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row


def _inbox_events(settings: Settings) -> int:
    """Events in the receiver's inbox files (lines; a claimed file counts until it is processed)."""
    from pipeline.webhooks import Inbox

    inbox = Inbox(settings.inbox_dir)
    if not inbox.has_events():
        return 0
    files = [*inbox.pending_files(), *([inbox.path] if inbox.path.exists() else [])]
    total = 0
    for path in files:
        with path.open("rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


def format_status(status: Status) -> str:
    """The status as aligned lines of text, one fact per line."""
    if not status.exists:
        lines = [("warehouse", f"no warehouse yet at {status.warehouse_path} (run `backstride sync` first)")]
        if status.inbox_events:
            lines.append(("webhooks", f"{status.inbox_events} events waiting in the inbox"))
        return _aligned(lines)
    quarantine = sum(status.open_quarantine.values())
    by_table = ", ".join(f"{t} {n}" for t, n in status.open_quarantine.items())
    lines = [
        ("warehouse", f"{status.warehouse_path} ({_size(status.size_bytes)})"),
        ("engine", status.engine),
        ("data", f"{status.data_path} ({status.data_files} files)"),
        (
            "snapshot",
            f"{status.snapshot_id} ({_when(status.snapshot_at)})" if status.snapshot_id is not None else "none",
        ),
        ("schema", _version(status)),
        (
            "athletes",
            f"{status.athletes}" + (f" ({status.needs_reauth} need re-authorisation)" if status.needs_reauth else ""),
        ),
        ("activities", f"{status.activities}"),
        ("last sync", _when(status.last_sync_at)),
        ("last build", _build(status.last_build)),
        ("quarantine", f"{quarantine} open" + (f" ({by_table})" if by_table else "")),
        (
            "webhooks",
            f"{status.inbox_events} waiting in the inbox; {status.webhook_events_processed} processed"
            + (f", last {_when(status.last_webhook_at)}" if status.last_webhook_at else ""),
        ),
    ]
    return _aligned(lines)


def _version(status: Status) -> str:
    text = f"version {status.schema_version}"
    if status.schema_version > status.latest_version:
        return f"{text} (made by a newer backstride: this one knows up to {status.latest_version})"
    if status.schema_version < status.latest_version:
        return f"{text} (latest {status.latest_version}: the next write upgrades it)"
    return f"{text} (latest)"


def _build(build: BuildRecord | None) -> str:
    if build is None:
        return "never"
    kind = "full" if build.full_rebuild else "incremental"
    return (
        f"{_when(build.finished_at)} ({kind}, as of {build.as_of}, {build.models} models, "
        f"{build.batches_ingested} batches ingested)"
    )


def _when(moment: datetime.datetime | None) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KB", "MB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _aligned(lines: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in lines)
    return "\n".join(f"{label.ljust(width)}  {value}" for label, value in lines)
