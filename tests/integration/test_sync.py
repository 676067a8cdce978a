"""Sync through stravalib against a real Strava-compatible server on 127.0.0.1."""

from __future__ import annotations

import math
import os
import stat
from datetime import UTC, datetime, timedelta

from sync_support import count, register_all, registered_on_stub, settings_for, snapshot

from pipeline.athletes import remove_athlete
from pipeline.loading import RUN_TYPES
from pipeline.strava_stub.demo_data import World, synthetic_world
from pipeline.sync.events import fetch_activity
from pipeline.sync.run import sync_all
from pipeline.tokens import load_tokens
from tests.lake_support import open_lake


def runs_in_window(world: World, weeks: int) -> int:
    cutoff = datetime.now(UTC) - timedelta(weeks=weeks)
    return sum(
        1
        for a in world.athletes.values()
        for act in a.activities
        if act["sport_type"] in RUN_TYPES and datetime.fromisoformat(act["start_date"].replace("Z", "+00:00")) >= cutoff
    )


def test_full_sync_fills_typed_tables_from_every_activity(tmp_path, start_stub, small_world):
    _server, s, _ = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=2)

    [result] = sync_all(s)

    athlete = next(iter(small_world.athletes.values()))
    assert result.status == "ok"
    assert count(s, "select count(*) from activities") == len(athlete.activities)
    window = runs_in_window(small_world, 2)
    assert count(s, "select count(*) from stream_features") == window
    assert count(s, "select count(distinct activity_id) from splits") == window
    assert count(s, "select count(*) from activities where has_detail") == window
    assert count(s, "select count(*) from gear") == len(athlete.gear)


def test_new_athlete_costs_list_pages_plus_two_requests_per_recent_run(tmp_path, start_stub):
    world = synthetic_world(1, 450)
    server, s, _ = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)
    server.reset_stats()

    sync_all(s)

    n = 450
    r = runs_in_window(world, 1)
    gear = len(next(iter(world.athletes.values())).gear)
    stats = server.stats()
    assert stats["by_endpoint"]["GET /api/v3/athlete/activities"] == 3  # 200 + 200 + 50
    assert stats["api_requests"] <= math.ceil(n / 200) + 1 + 2 * r + 1 + gear
    assert count(s, "select count(*) from activities") == n


def test_athlete_with_nothing_new_costs_one_request_and_changes_nothing(tmp_path, start_stub, small_world):
    server, s, _ = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=2)
    sync_all(s)
    before = snapshot(s)
    server.reset_stats()

    [result] = sync_all(s)

    assert result.status == "ok"
    assert server.stats()["api_requests"] == 1
    assert snapshot(s) == before
    landing_before = count(s, "select count(*) from landing")
    sync_all(s)
    assert count(s, "select count(*) from landing") == landing_before  # an identical page is stored once


def test_expired_access_token_is_refreshed_and_newest_refresh_token_saved(tmp_path, start_stub, small_world):
    server, s, [athlete_id] = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=1)
    old = load_tokens(s, athlete_id)
    server.expire_access_tokens()

    [result] = sync_all(s)

    new = load_tokens(s, athlete_id)
    assert result.status == "ok"
    assert new.refresh_token != old.refresh_token
    assert new.refresh_token == server.refresh_token_of(athlete_id)  # the rotated one is what we keep
    path = s.secrets_dir / "tokens" / f"{athlete_id}.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_spent_rate_limit_defers_and_next_run_resumes_to_the_same_tables(tmp_path, start_stub, small_world):
    clean_server = start_stub(small_world)
    clean = settings_for(tmp_path / "clean", clean_server, lookback_weeks=2)
    register_all(clean, small_world)
    sync_all(clean)

    server = start_stub(small_world, short_limit=12)
    s = settings_for(tmp_path / "limited", server, lookback_weeks=2)
    register_all(s, small_world)
    [first] = sync_all(s)
    assert first.status == "deferred"
    assert first.pending > 0
    assert server.stats()["rate_limited"] == 0  # stopped on the headers, before Strava said 429

    server.reset_usage()
    server.set_limits(2000, 20000)
    [second] = sync_all(s)

    assert second.status == "ok"
    assert second.pending == 0
    assert snapshot(s) == snapshot(clean)


def test_429_in_the_middle_of_paging_resumes_from_that_page(tmp_path, start_stub):
    world = synthetic_world(1, 450)
    server, s, _ = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)
    server.inject("rate_limit", after=1, count=1, path="/athlete/activities")

    [first] = sync_all(s)
    assert first.status == "deferred"
    assert "429" in first.message
    server.reset_stats()
    [second] = sync_all(s)

    assert second.status == "ok"
    assert server.stats()["by_endpoint"]["GET /api/v3/athlete/activities"] == 2  # pages 2 and 3 only
    assert count(s, "select count(*) from activities") == 450


def test_server_errors_and_slow_answers_are_retried(tmp_path, start_stub, small_world):
    server, s, _ = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=1, http_timeout_s=0.5)
    server.inject("status", status=503, count=2)
    server.inject("slow", delay_s=1.5, count=1, path=r"/activities/\d+$")

    [result] = sync_all(s)

    assert result.status == "ok"
    assert count(s, "select count(*) from stream_features") == runs_in_window(small_world, 1)


def test_malformed_body_is_landed_logged_and_the_rest_loads(tmp_path, start_stub, small_world, caplog):
    server, s, _ = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=1)
    server.inject("malformed", count=1, path=r"/activities/\d+$")

    [result] = sync_all(s)

    assert result.status == "ok"
    assert count(s, "select count(*) from landing where parse_error is not null") == 1
    assert count(s, "select count(*) from landing where raw_text is not null and endpoint = 'activity_detail'") == 1
    assert "not valid JSON" in caplog.text
    athlete = next(iter(small_world.athletes.values()))
    assert count(s, "select count(*) from activities") == len(athlete.activities)
    # the failed detail is retried next run
    assert count(s, "select count(*) from fetch_queue where attempts = 1") == 1
    sync_all(s)
    assert count(s, "select count(*) from fetch_queue") == 0
    assert count(s, "select count(*) from activities where has_detail") == runs_in_window(small_world, 1)


def test_edited_activity_replaces_the_old_row(tmp_path, start_stub, small_world):
    _server, s, [athlete_id] = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=1)
    sync_all(s)
    athlete = small_world.athlete(athlete_id)
    target = athlete.activities[-1]["id"]
    small_world.update_activity(athlete_id, target, {"name": "Easy run (edited)", "distance": 7777.0})

    sync_all(s, full=True)

    con = open_lake(s, read_only=True)
    rows = con.execute("select name, distance from activities where activity_id = ?", [target]).fetchall()
    total = con.execute("select count(*) from activities").fetchall()[0][0]
    con.close()
    assert rows == [("Easy run (edited)", 7777.0)]
    assert total == len(athlete.activities)


def test_fetch_activity_loads_one_new_activity(tmp_path, start_stub, small_world):
    _server, s, [athlete_id] = registered_on_stub(tmp_path, start_stub, small_world, lookback_weeks=1)
    sync_all(s)
    new = small_world.add_activity(
        athlete_id, small_world.new_run(athlete_id, datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=2), 8.0)
    )

    result = fetch_activity(s, athlete_id, new["id"])

    assert result.status == "ok"
    assert count(s, f"select count(*) from activities where activity_id = {new['id']}") == 1
    assert count(s, f"select count(*) from stream_features where activity_id = {new['id']}") == 1


def test_revoked_athlete_needs_reauth_and_others_still_sync(tmp_path, start_stub):
    world = synthetic_world(2, 20)
    server, s, (first, second) = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)
    server.revoke(first)
    server.expire_access_tokens(first)

    results = {r.athlete_id: r for r in sync_all(s)}

    assert results[first].status == "needs_reauth"
    assert results[second].status == "ok"
    assert count(s, f"select count(*) from athletes where needs_reauth and athlete_id = {first}") == 1
    assert count(s, f"select count(*) from activities where athlete_id = {second}") == 20


def test_remove_athlete_deletes_every_row_and_the_tokens(tmp_path, start_stub):
    world = synthetic_world(2, 15)
    _server, s, (gone, kept) = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)
    sync_all(s)

    remove_athlete(s, gone)

    con = open_lake(s, read_only=True)
    tables = [
        t
        for (t,) in con.execute(
            "select table_name from duckdb_columns() where column_name = 'athlete_id' and not internal"
        ).fetchall()
    ]
    leftovers = {
        t: con.execute(f"select count(*) from {t} where athlete_id = ?", [gone]).fetchall()[0][0] for t in tables
    }
    kept_rows = con.execute("select count(*) from activities where athlete_id = ?", [kept]).fetchall()[0][0]
    con.close()
    assert "landing" in tables and "activities" in tables
    assert all(n == 0 for n in leftovers.values()), leftovers
    assert kept_rows == 15
    assert load_tokens(s, gone) is None
