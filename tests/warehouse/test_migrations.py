"""The migration runner: in order, once, each file in its own transaction, refusing what it cannot trust."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from warehouse_support import snapshot

from pipeline.migrations import (
    NATIVE_MIGRATIONS_DIR,
    MigrationError,
    applied_versions,
    current_version,
    discover,
    migrate,
)
from pipeline.warehouse import init_schema
from tests.lake_support import open_lake


def test_a_new_warehouse_gets_every_migration_in_order(tmp_path: Path) -> None:
    con = open_lake(tmp_path)
    assert migrate(con) == [m.version for m in discover()]
    assert list(applied_versions(con)) == list(range(1, len(discover()) + 1))


def test_the_baseline_creates_the_tables_other_modules_used_to_create_themselves(tmp_path: Path) -> None:
    con = open_lake(tmp_path)
    migrate(con)
    columns = set(con.execute("select table_name, column_name from duckdb_columns()").fetchall())
    assert {
        ("webhook_events", "dedupe_key"),
        ("webhook_events", "processed_at"),
        ("rule_threshold_overrides", "value"),
        ("quarantine", "superseded_by"),
        ("validation_runs", "message"),
        ("gear", "missing"),
        ("fetch_queue", "object_id"),
    } <= columns
    # DuckLake has no sequences and enforces no keys: ids come from pipeline.ids, keys from table_keys
    assert con.execute("select count(*) from duckdb_sequences()").fetchone() == (0,)


def test_rows_written_at_the_first_version_are_kept_by_the_upgrade(tmp_path: Path, first_only: Path) -> None:
    # the single-file history has two versions: the runner upgrades a file at 001 to 002
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert migrate(con, first_only) == [1]
    con.execute("insert into athletes (athlete_id, firstname, email) values (7, 'Ana', 'a@example.org')")
    con.execute("insert into quarantine values ('activities', '9', 7, 9, 'b', ['x'], null, now(), null, null)")
    con.execute("insert into webhook_events values ('k', 7, 'activity', 9, 'create', 1, null, null, 'queued', now())")
    before = snapshot(con)
    native = discover(NATIVE_MIGRATIONS_DIR)
    assert migrate(con, NATIVE_MIGRATIONS_DIR) == list(range(2, len(native) + 1))
    after = snapshot(con)
    assert {t: after[t] for t in before if t != "schema_version"} == {
        t: v for t, v in before.items() if t != "schema_version"
    }
    assert "build_log" in after and current_version(con) == len(native)


def test_running_the_migrations_twice_changes_nothing(tmp_path: Path) -> None:
    con = open_lake(tmp_path)
    init_schema(con)
    con.execute("insert into athletes (athlete_id) values (1)")
    before = snapshot(con)
    assert migrate(con) == []
    init_schema(con)
    assert snapshot(con) == before


def test_a_failing_migration_leaves_the_previous_version_and_its_data_and_names_the_file(
    tmp_path: Path, migrations_dir: Path
) -> None:
    con = open_lake(tmp_path)
    migrate(con, migrations_dir)
    good = current_version(con)
    con.execute("insert into athletes (athlete_id, firstname) values (1, 'Ana')")
    broken = migrations_dir / f"{good + 1:03d}_broken.sql"
    broken.write_text(
        "create table half_done (x integer);\nalter table athletes add column nickname varchar;\nselect nope from nowhere;\n"
    )
    before = snapshot(con)
    with pytest.raises(MigrationError, match=rf"{broken.name} failed: .*nowhere"):
        migrate(con, migrations_dir)
    assert current_version(con) == good
    assert snapshot(con) == before  # no half_done table, no nickname column, the row kept


def test_the_failing_file_is_named_by_its_path_in_the_repository() -> None:
    migration = discover()[0]
    assert migration.label == f"sql/migrations/{migration.name}"


def test_a_file_changed_after_it_was_applied_is_refused(tmp_path: Path, migrations_dir: Path) -> None:
    con = open_lake(tmp_path)
    migrate(con, migrations_dir)
    first = sorted(migrations_dir.glob("001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an edit after release\n")
    with pytest.raises(MigrationError, match=rf"{first.name} changed after it was applied"):
        migrate(con, migrations_dir)


def test_a_warehouse_made_by_a_newer_backstride_is_refused(tmp_path: Path) -> None:
    con = open_lake(tmp_path)
    migrate(con)
    newer = current_version(con) + 1
    con.execute("insert into schema_version (version, name, checksum) values (?, 'from_the_future.sql', 'x')", [newer])
    with pytest.raises(MigrationError, match="made by a newer backstride"):
        init_schema(con)


@pytest.mark.parametrize("names", [["001_a.sql", "003_c.sql"], ["001_a.sql", "001_b.sql"], ["1_a.sql"]])
def test_migration_files_must_be_numbered_without_gaps(tmp_path: Path, names: list[str]) -> None:
    for name in names:
        (tmp_path / name).write_text("select 1;\n")
    with pytest.raises(MigrationError):
        discover(tmp_path)


def test_every_writer_brings_the_warehouse_to_the_latest_version(tmp_path: Path) -> None:
    from pipeline.config import Settings
    from pipeline.warehouse import writer

    settings = Settings(home=tmp_path)
    with writer(settings) as con:
        assert current_version(con) == len(discover())
    with writer(settings) as con:
        assert len(con.execute("select * from schema_version").fetchall()) == len(discover())
