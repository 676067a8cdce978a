"""DuckLake enforces no keys: after re-runs, a killed run and writers at once, no table holds a key twice."""

from __future__ import annotations

import subprocess
import time

import pytest
from cli_support import BIN, env_for
from sync_support import register_all, settings_for

from pipeline.build import run_build
from pipeline.digest import send_digests
from pipeline.query import run_query
from pipeline.strava_stub.demo_data import synthetic_world
from pipeline.sync.run import sync_all
from pipeline.table_keys import TABLE_KEYS
from pipeline.thresholds import save_override
from tests.lake_support import open_lake

pytestmark = pytest.mark.slow


def duplicate_keys(settings) -> dict[str, int]:
    """Table -> keys held by more than one row (only tables that have any)."""
    con = open_lake(settings, read_only=True)
    try:
        tables = {
            r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 'lake'").fetchall()
        }
        found = {}
        for table, key in TABLE_KEYS.items():
            if table not in tables:
                continue
            cols = ", ".join(f'"{c}"' for c in key)
            n = con.execute(
                f'select count(*) from (select {cols} from "{table}" group by all having count(*) > 1)'
            ).fetchone()[0]
            if n:
                found[table] = n
        return found
    finally:
        con.close()


def test_every_table_of_the_lake_has_a_stated_key() -> None:
    from pipeline.migrations import discover

    text = "\n".join(m.sql for m in discover())
    created = {line.split()[2] for line in text.splitlines() if line.startswith("create table ")}
    assert created | {"schema_version"} == set(TABLE_KEYS)


def test_re_runs_and_writers_at_once_leave_every_key_unique(tmp_path, start_stub) -> None:
    world = synthetic_world(3, 40)
    server = start_stub(world)
    s = settings_for(tmp_path, server, lookback_weeks=3)
    athletes = register_all(s, world)
    sync_all(s)
    run_build(s)
    send_digests(s)
    # re-runs: everything again, a full re-sync, the same override twice, a resend
    sync_all(s, full=True)
    save_override(s, athletes[0], "distance.single_run_spike", "warning_ratio", 1.4)
    save_override(s, athletes[0], "distance.single_run_spike", "warning_ratio", 1.5)
    run_build(s)
    run_build(s)
    send_digests(s)
    send_digests(s, resend=True)
    assert duplicate_keys(s) == {}

    # writers at once: a sync, two builds and a reader, each its own process
    env = env_for(s.home, server.base_url)
    world.update_activity(athletes[1], world.athlete(athletes[1]).activities[-1]["id"], {"name": "renamed"})
    procs = [
        subprocess.Popen([str(BIN), *cmd], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for cmd in (["sync", "--full"], ["build"], ["build"])
    ]
    stored = run_query(s, "select count(*) from activities").rows[0][0]
    reads = 0
    while any(p.poll() is None for p in procs):
        assert run_query(s, "select count(*) from activities").rows[0][0] == stored  # no half-written state
        reads += 1
        time.sleep(0.05)
    for p in procs:
        out, err = p.communicate()
        assert p.returncode == 0, out + err
    assert reads > 0
    assert duplicate_keys(s) == {}

    # a sync killed mid-run, then run again
    killed = subprocess.Popen(
        [str(BIN), "sync", "--full"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(1.5)
    killed.kill()
    killed.wait()
    sync_all(s, full=True)
    run_build(s)
    assert duplicate_keys(s) == {}
    con = open_lake(s, read_only=True)
    try:
        assert con.execute(
            "select name from activities where activity_id = ?", [world.athlete(athletes[1]).activities[-1]["id"]]
        ).fetchone() == ("renamed",)
    finally:
        con.close()
