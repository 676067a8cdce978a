"""A warehouse written by release 0.1 (before migrations) is upgraded with every row kept, then moved into the lake."""

from __future__ import annotations

from pathlib import Path

import duckdb
from warehouse_support import import_release_0_1, snapshot

from pipeline.config import Settings
from pipeline.lake_upgrade import kept_path
from pipeline.migrations import NATIVE_MIGRATIONS_DIR, applied_versions, current_version, latest_version, migrate
from pipeline.warehouse import connect_reader, writer
from tests.lake_support import open_lake


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """What the single-file releases ran at every open: their own migrations."""
    migrate(con, NATIVE_MIGRATIONS_DIR)


def native_latest() -> int:
    return latest_version(NATIVE_MIGRATIONS_DIR)


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
    assert current_version(con) == native_latest() >= 2
    assert [name for name, _ in applied_versions(con).values()][:2] == ["001_baseline.sql", "002_build_log.sql"]
    for table, (columns, rows) in before.items():
        assert after[table] == (columns, rows), table
    assert {"schema_version", "build_log"} <= set(after) - set(before)


def test_the_upgrade_is_durable(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    con = import_release_0_1(path)
    init_schema(con)
    con.close()
    reopened = duckdb.connect(str(path))
    assert current_version(reopened) == native_latest()


def _release_home(tmp_path: Path) -> tuple[Settings, dict[str, object]]:
    """A BACKSTRIDE_HOME holding release 0.1's warehouse.duckdb (and a stale replica beside it)."""
    settings = Settings(home=tmp_path / "home")
    settings.home.mkdir()
    con = import_release_0_1(settings.warehouse_path)
    before = snapshot(con)
    con.close()
    settings.replica_path.write_bytes(settings.warehouse_path.read_bytes())
    return settings, before


def test_the_first_open_moves_every_row_of_every_table_into_the_lake(tmp_path: Path) -> None:
    settings, before = _release_home(tmp_path)
    with writer(settings) as con:
        assert current_version(con) == latest_version()
        for table, (_, rows) in before.items():
            columns = [c[0] for c in before[table][0]]  # type: ignore[index]
            names = ", ".join(f'"{c}"' for c in columns)
            moved = con.execute(f'select {names} from "{table}" order by all').fetchall()
            assert moved == rows, table
        log = con.execute("select source, tables_moved, rows_moved from upgrade_log").fetchall()
    # every table of the release, and build_log (added, empty, by the last single-file migration)
    assert log == [(str(settings.warehouse_path), len(before) + 1, sum(len(r) for _, r in before.values()))]
    # the old file is kept beside, renamed, until the user deletes it; the stale replica is gone
    assert kept_path(settings).exists() and not settings.warehouse_path.exists()
    assert not settings.replica_path.exists()


def test_a_reader_first_finds_the_moved_rows_and_moving_again_changes_nothing(tmp_path: Path) -> None:
    settings, before = _release_home(tmp_path)
    con = connect_reader(settings)  # the first open, even a reader's, moves it in
    try:
        assert con.execute("select count(*) from activities").fetchone() == (len(before["activities"][1]),)  # type: ignore[index]
    finally:
        con.close()
    # a crash between the commit and the rename: the file is back, upgrade_log says it moved
    kept_path(settings).rename(settings.warehouse_path)
    with writer(settings) as con:
        assert con.execute("select count(*) from upgrade_log").fetchone() == (1,)
        assert con.execute("select count(*) from landing").fetchone() == (len(before["landing"][1]),)  # type: ignore[index]
    assert kept_path(settings).exists()


def test_landing_ids_continue_after_the_moved_ones(tmp_path: Path) -> None:
    from pipeline.loading.landing import LandingItem, land

    settings, _ = _release_home(tmp_path)
    with writer(settings) as con:
        old_max = con.execute("select max(landing_id) from landing").fetchone()[0]
        land(con, 101, "b-new", [LandingItem.from_text("athlete", 101, '{"id": 101, "firstname": "Ana B"}')])
        new = con.execute("select landing_id from landing where batch_id = 'b-new'").fetchall()
    assert len(new) == 1 and new[0][0] > old_max


def test_a_move_that_fails_changes_nothing_and_says_why(tmp_path: Path) -> None:
    settings, _ = _release_home(tmp_path)
    con = duckdb.connect(str(settings.warehouse_path))
    con.execute("create table from_elsewhere (x integer)")
    con.close()
    import pytest

    from pipeline.lake_upgrade import UpgradeError

    with pytest.raises(UpgradeError, match="from_elsewhere"):
        with writer(settings):
            pass
    assert settings.warehouse_path.exists() and not kept_path(settings).exists()
    lake = open_lake(settings, read_only=True)
    try:
        assert lake.execute("select count(*) from activities").fetchone() == (0,)
    finally:
        lake.close()


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
