"""Keeping the lake small and leaving nothing of a removed athlete: `backstride maintain` and purges.

Every commit writes small files (or, under DuckLake's inlining limit, rows in the catalog) and
keeps what it replaced for time travel. `maintain` (daily, and `backstride maintain`) flushes
inlined rows into Parquet, merges small adjacent files, expires snapshots older than the
retention (the time-travel window, default 7 days) and deletes the files no snapshot needs.

`purge` is for deletion (`athletes remove`, deauthorization): a delete only masks rows, so the
files holding them are rewritten and every older snapshot expired at once, after which no row
of the athlete is left in any Parquet file, delete file, inlined catalog row or old snapshot.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

import duckdb

from pipeline import lake
from pipeline.config import Settings

DEFAULT_RETENTION = dt.timedelta(days=7)


@dataclass
class MaintenanceReport:
    files_before: int
    files_after: int
    snapshots_before: int
    snapshots_after: int
    bytes_before: int
    bytes_after: int

    def summary(self) -> str:
        return (
            f"data files {self.files_before} -> {self.files_after}, snapshots {self.snapshots_before} -> "
            f"{self.snapshots_after}, {self.bytes_before / 1e6:.1f} MB -> {self.bytes_after / 1e6:.1f} MB on disk"
        )


def _data_files(settings: Settings) -> list[int]:
    if not settings.data_path.exists():
        return []
    return [p.stat().st_size for p in settings.data_path.rglob("*") if p.is_file()]


def _snapshots(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute(f"select count(*) from ducklake_snapshots('{lake.LAKE}')").fetchone()
    return int(row[0]) if row else 0


def maintain(settings: Settings, retention: dt.timedelta = DEFAULT_RETENTION) -> MaintenanceReport:
    """Merge small files, expire snapshots older than `retention`, delete files nothing needs."""
    from pipeline.warehouse import writer

    before = _data_files(settings)
    with writer(settings) as con:
        snapshots_before = _snapshots(con)
        cutoff = dt.datetime.now(dt.UTC) - retention
        con.execute("call ducklake_flush_inlined_data(?)", [lake.LAKE])
        con.execute("call ducklake_merge_adjacent_files(?)", [lake.LAKE])
        con.execute("call ducklake_expire_snapshots(?, older_than => ?)", [lake.LAKE, cutoff])
        con.execute("call ducklake_cleanup_old_files(?, older_than => ?)", [lake.LAKE, cutoff])
        snapshots_after = _snapshots(con)
    after = _data_files(settings)
    return MaintenanceReport(len(before), len(after), snapshots_before, snapshots_after, sum(before), sum(after))


def purge(settings: Settings) -> None:
    """Leave no deleted row anywhere: rewrite data files, expire every older snapshot, delete files.

    Time travel to before this point is given up: those snapshots still showed the deleted rows.
    """
    con = lake.connect(settings)
    try:
        con.execute("call ducklake_flush_inlined_data(?)", [lake.LAKE])
        con.execute("call ducklake_expire_snapshots(?, older_than => now())", [lake.LAKE])
        con.execute("call ducklake_rewrite_data_files(?, delete_threshold => 0)", [lake.LAKE])
        con.execute("call ducklake_expire_snapshots(?, older_than => now())", [lake.LAKE])
        con.execute("call ducklake_cleanup_old_files(?, cleanup_all => true)", [lake.LAKE])
    finally:
        con.close()
    _vacuum_catalog(settings)


def _vacuum_catalog(settings: Settings) -> None:
    """SQLite keeps deleted rows' bytes in free pages until VACUUM rebuilds the file."""
    catalog = sqlite3.connect(settings.catalog_path, timeout=60)
    try:
        catalog.execute("vacuum")
    finally:
        catalog.close()
