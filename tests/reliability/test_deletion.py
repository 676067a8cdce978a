"""Deleting an athlete (the CLI's `athletes remove`, or Strava's deauthorization event) leaves
nothing of them: no row in any table (landing, quarantine, logs and marts included), no
token, no outbox file."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sync_support import register_all, settings_for

from pipeline.athletes import remove_athlete
from pipeline.build import run_build
from pipeline.digest import send_digests
from pipeline.strava_stub.demo_data import synthetic_world
from pipeline.sync.run import sync_all
from pipeline.tokens import load_tokens
from pipeline.webhooks import WEBHOOK_PATH, create_app, process_inbox, save_subscription_id
from tests.lake_support import open_lake, raw_traces

pytestmark = pytest.mark.slow


def rows_of(settings, athlete_id: int) -> dict[str, int]:
    con = open_lake(settings, read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                """select distinct c.table_name from duckdb_columns() c join duckdb_tables() t
                   on t.table_name = c.table_name and t.schema_name = c.schema_name
                   where c.column_name = 'athlete_id' and not t.temporary"""
            ).fetchall()
        ]
        return {
            t: con.execute(f'select count(*) from "{t}" where athlete_id = ?', [athlete_id]).fetchall()[0][0]
            for t in tables
        }
    finally:
        con.close()


def test_remove_and_deauthorization_leave_nothing_of_the_athlete(tmp_path, start_stub, record):
    world = synthetic_world(3, 25)
    removed, deauthorized, kept = list(world.athletes)
    for athlete_id in (removed, deauthorized):  # give each a quarantined row too
        bad = world.athlete(athlete_id).activities[-1]
        world.update_activity(athlete_id, bad["id"], {"distance": 250_000.0})
    server = start_stub(world)
    s = settings_for(tmp_path, server, lookback_weeks=2, verify_token="v")
    register_all(s, world)
    sync_all(s)
    run_build(s)
    send_digests(s)
    before = {a: rows_of(s, a) for a in (removed, deauthorized)}
    assert all(before[a]["quarantine"] > 0 and before[a]["risk_flags"] >= 0 for a in before)
    assert all(before[a]["landing"] > 0 and before[a]["digest_log"] == 1 for a in before)

    remove_athlete(s, removed)
    save_subscription_id(s, 99)
    client = TestClient(create_app(s, env={}))
    answer = client.post(
        WEBHOOK_PATH,
        json={
            "object_type": "athlete",
            "object_id": deauthorized,
            "aspect_type": "update",
            "owner_id": deauthorized,
            "subscription_id": 99,
            "event_time": 1_790_000_000,
            "updates": {"authorized": "false"},
        },
    )
    assert answer.status_code == 200
    process_inbox(s)
    run_build(s)  # marts rebuilt afterwards must not bring anything back

    for athlete_id in (removed, deauthorized):
        leftovers = {t: n for t, n in rows_of(s, athlete_id).items() if n}
        assert leftovers == {}, (athlete_id, leftovers)
        assert load_tokens(s, athlete_id) is None
        assert not list(s.outbox_dir.glob(f"*/{athlete_id}.*"))
        inbox_text = "".join(p.read_text() for p in s.inbox_dir.rglob("*.jsonl")) if s.inbox_dir.exists() else ""
        assert f'"owner_id":{athlete_id}' not in inbox_text.replace(" ", "")
        email = world.athlete(athlete_id).email
        assert raw_traces(s, athlete_id, email) == [], athlete_id
    assert rows_of(s, kept)["activities"] == 25
    assert list(s.outbox_dir.glob(f"*/{kept}.eml"))
    record.update(athletes_deleted=2, rows_left=0, tokens_left=0, outbox_files_left=0)
