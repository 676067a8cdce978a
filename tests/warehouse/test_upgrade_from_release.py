"""A warehouse written by release 0.1 (before migrations) is upgraded in place with every row kept."""

from __future__ import annotations

from pathlib import Path

import duckdb
from warehouse_support import import_release_0_1, snapshot

from pipeline.migrations import applied_versions, current_version, latest_version
from pipeline.warehouse import init_schema

RELEASE_TABLES = {
    "landing", "athletes", "activities", "splits", "gear", "stream_features", "sync_state", "fetch_queue",
    "deleted_activities", "ingest_log", "quarantine", "validation_runs", "digest_log", "webhook_events",
    "rule_threshold_overrides",
}  # fmt: skip


def test_the_fixture_has_rows_in_every_table_of_the_release(tmp_path: Path) -> None:
    con = import_release_0_1(tmp_path / "w.duckdb")
    before = snapshot(con)
    assert set(before) == RELEASE_TABLES
    assert all(rows for _, rows in before.values())
    assert current_version(con) == 0


def test_the_release_warehouse_is_upgraded_to_the_latest_version_with_every_row_kept(tmp_path: Path) -> None:
    con = import_release_0_1(tmp_path / "w.duckdb")
    before = snapshot(con)
    init_schema(con)
    after = snapshot(con)
    assert current_version(con) == latest_version() >= 2
    assert [name for name, _ in applied_versions(con).values()][:2] == ["001_baseline.sql", "002_build_log.sql"]
    for table, (columns, rows) in before.items():
        assert after[table] == (columns, rows), table
    assert {"schema_version", "build_log"} <= set(after) - set(before)


def test_the_upgrade_is_durable_and_the_sequence_continues(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = import_release_0_1(path)
    init_schema(con)
    con.close()
    reopened = duckdb.connect(str(path))
    assert current_version(reopened) == latest_version()
    # release 0.1 used landing ids 1 and 2: the next one continues after them
    assert reopened.execute("select nextval('landing_seq')").fetchone() == (3,)


def test_an_older_pre_release_shape_gets_the_baseline_columns_it_lacks(tmp_path: Path) -> None:
    con = import_release_0_1(tmp_path / "w.duckdb")
    con.execute("alter table gear drop column missing")
    con.execute("alter table sync_state drop column listed_epoch")
    con.execute("drop table webhook_events")
    init_schema(con)
    assert con.execute("select gear_id, missing from gear order by gear_id").fetchall() == [
        ("g-1", False),
        ("g-2", False),
    ]
    nullable = con.execute(
        "select is_nullable from duckdb_columns() where table_name = 'gear' and column_name = 'missing'"
    ).fetchone()
    assert nullable == (False,)
    assert con.execute("select count(listed_epoch) from sync_state").fetchone() == (0,)
    assert con.execute("select count(*) from webhook_events").fetchone() == (0,)
    assert con.execute("select count(*) from sync_state").fetchone() == (2,)
