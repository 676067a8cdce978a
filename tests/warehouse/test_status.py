"""`backstride status`: what an operator checks first, read without the write lock."""

from __future__ import annotations

import datetime
from pathlib import Path

from pipeline.build_log import record_build
from pipeline.config import Settings
from pipeline.migrations import latest_version
from pipeline.status import collect_status, format_status
from pipeline.warehouse import writer


def _small_warehouse(settings: Settings) -> None:
    with writer(settings) as con:
        con.execute(
            "insert into athletes (athlete_id, firstname, needs_reauth) values (1, 'Ana', false), (2, 'Bo', true)"
        )
        con.execute("insert into activities (activity_id, athlete_id) values (10, 1), (11, 1), (12, 2)")
        con.execute(
            """insert into sync_state (athlete_id, last_sync_at) values
               (1, '2026-03-02 07:05:00+00'), (2, '2026-03-03 09:30:00+00')"""
        )
        con.execute(
            """insert into quarantine values
               ('activities', '13', 1, 13, 'b', ['x'], null, now(), null, null),
               ('splits', '10:1', 1, 10, 'b', ['x'], null, now(), null, null),
               ('splits', '10:2', 1, 10, 'b', ['x'], null, now(), null, null),
               ('splits', '10:3', 1, 10, 'b', ['x'], null, now(), now(), null)"""
        )
        con.execute(
            """insert into webhook_events values
               ('k', 1, 'activity', 10, 'create', 1, null, null, 'fetched', '2026-03-02 07:00:00+00')"""
        )
        record_build(
            con,
            started_at=datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC),
            finished_at=datetime.datetime(2026, 3, 3, 10, 1, tzinfo=datetime.UTC),
            as_of=datetime.date(2026, 3, 3),
            models=25,
            batches_ingested=2,
        )


def test_a_home_without_a_warehouse_says_so(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    status = collect_status(settings)
    assert not status.exists
    assert (
        format_status(status) == f"warehouse  no warehouse yet at {settings.catalog_path} (run `backstride sync` first)"
    )
    assert not settings.home.exists()  # asking created nothing


def test_the_status_counts_what_the_warehouse_holds(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    _small_warehouse(settings)
    status = collect_status(settings)
    assert status.schema_version == status.latest_version == latest_version()
    assert (status.athletes, status.needs_reauth, status.activities) == (2, 1, 3)
    assert status.last_sync_at == datetime.datetime(2026, 3, 3, 9, 30, tzinfo=datetime.UTC)
    assert status.last_build is not None and status.last_build.models == 25
    assert status.open_quarantine == {"activities": 1, "splits": 2}
    assert status.webhook_events_processed == 1
    assert status.size_bytes > 0


def test_the_status_text_has_one_line_per_fact(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    _small_warehouse(settings)
    text = format_status(collect_status(settings))
    lines = {line[:12].strip(): line[12:] for line in text.splitlines()}  # labels padded to 'last build'
    assert lines["warehouse"].startswith(f"{settings.catalog_path} (")
    assert lines["engine"] == "DuckLake (SQLite catalog)"
    assert lines["data"].startswith(f"{settings.data_path} (") and lines["data"].endswith(" files)")
    assert lines["snapshot"].split()[0].isdigit()
    assert lines["schema"] == f"version {latest_version()} (latest)"
    assert lines["athletes"] == "2 (1 need re-authorisation)"
    assert lines["last sync"] == "2026-03-03 09:30 UTC"
    assert lines["last build"] == "2026-03-03 10:01 UTC (full, as of 2026-03-03, 25 models, 2 batches ingested)"
    assert lines["quarantine"] == "3 open (activities 1, splits 2)"


def test_events_waiting_in_the_inbox_count_as_pending(tmp_path: Path) -> None:
    from pipeline.webhooks import Inbox

    settings = Settings(home=tmp_path)
    _small_warehouse(settings)
    Inbox(settings.inbox_dir).append([{"object_id": 1}, {"object_id": 2}])
    status = collect_status(settings)
    assert status.inbox_events == 2
    assert "2 waiting in the inbox; 1 processed" in format_status(status)


def test_the_status_is_read_while_a_writer_is_mid_transaction_and_shows_the_last_commit(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    _small_warehouse(settings)
    before = collect_status(settings)
    with writer(settings) as con:
        con.execute("begin")
        con.execute("delete from activities")
        during = collect_status(settings)  # neither blocked nor shown the uncommitted delete
        assert during.activities == 3 and during.snapshot_id == before.snapshot_id
        con.execute("commit")
    after = collect_status(settings)
    assert after.activities == 0 and after.snapshot_id > before.snapshot_id


def test_a_warehouse_behind_the_code_says_the_next_write_upgrades_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    _small_warehouse(settings)
    with writer(settings) as con:
        con.execute("delete from schema_version where version = (select max(version) from schema_version)")
    status = collect_status(settings)
    assert status.schema_version == latest_version() - 1
    assert "the next write upgrades it" in format_status(status)
