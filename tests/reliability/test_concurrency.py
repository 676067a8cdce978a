"""Two writers at once, and readers while the pipeline writes."""

from __future__ import annotations

import subprocess
import time

import pytest
from cli_support import BIN, env_for
from sync_support import register_all, settings_for, snapshot

from pipeline.query import run_query
from pipeline.strava_stub.demo_data import synthetic_world
from pipeline.sync.run import sync_all
from tests.lake_support import open_lake

pytestmark = pytest.mark.slow


def test_two_syncs_started_together_serialise_and_do_not_corrupt(tmp_path, start_stub, record):
    world = synthetic_world(2, 60)
    clean = settings_for(tmp_path / "clean", start_stub(world), lookback_weeks=2)
    register_all(clean, world)
    sync_all(clean)

    server = start_stub(world)  # a second server: the first one rotated the refresh tokens
    s = settings_for(tmp_path / "twice", server, lookback_weeks=2)
    register_all(s, world)
    env = env_for(s.home, server.base_url)
    first = subprocess.Popen([str(BIN), "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen([str(BIN), "sync"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outs = [p.communicate(timeout=600) for p in (first, second)]

    for proc, (out, err) in zip((first, second), outs, strict=True):
        # each either ran (one after the other) or said clearly that another sync is running
        assert proc.returncode == 0 or "another `backstride sync` is running" in err, out + err
    assert snapshot(s) == snapshot(clean)
    record.update(concurrent_syncs=2, corrupted=0)


def test_readers_query_without_errors_while_a_build_writes(tmp_path, start_stub, record):
    world = synthetic_world(2, 60)
    server = start_stub(world)
    s = settings_for(tmp_path, server, lookback_weeks=2)
    register_all(s, world)
    sync_all(s)
    env = env_for(s.home, server.base_url)

    builds = 0
    queries = errors = 0
    deadline = time.monotonic() + 120
    while builds < 3 and time.monotonic() < deadline:
        build = subprocess.Popen(
            [str(BIN), "build"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        while build.poll() is None:
            try:
                assert run_query(s, "select count(*) from activities").rows[0][0] == 120
                con = open_lake(s, read_only=True)  # a plain DuckDB session with the lake attached
                assert con.execute("select count(*) from activities").fetchone() == (120,)
                con.close()
                queries += 1
            except Exception:
                errors += 1
            time.sleep(0.02)
        assert build.returncode == 0, build.stderr.read()
        builds += 1

    assert queries > 20
    assert errors == 0
    record.update(reader_queries_during_builds=queries, reader_errors=errors)
