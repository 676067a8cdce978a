"""Every Strava-side fault, injected by the local server: the sync survives it, and a clean
re-run afterwards gives exactly the tables a fault-free run gives, with nothing lost."""

from __future__ import annotations

import pytest
from sync_support import count, register_all, settings_for, snapshot

from pipeline.strava_stub.demo_data import synthetic_world
from pipeline.sync.run import sync_all
from tests.lake_support import open_lake

FAULTS = {
    "random_5xx_10_percent": dict(kind="status", status=502, probability=0.1, count=None, seed=3),
    "server_errors_in_a_row": dict(kind="status", status=503, count=8),
    "rate_limit_in_the_middle_of_paging": dict(kind="rate_limit", after=1, count=1, path="/athlete/activities"),
    "slow_answers_past_the_client_timeout": dict(kind="slow", delay_s=1.2, count=6),
    "malformed_json": dict(kind="malformed", count=5),
    "truncated_json": dict(kind="truncated", count=5),
    "connection_dropped": dict(kind="disconnect", count=4),
    "malformed_list_page": dict(kind="malformed", count=1, path="/athlete/activities"),
}


def landing_keys(settings) -> set[tuple]:

    con = open_lake(settings, read_only=True)
    try:
        return set(
            con.execute(
                "select endpoint, object_id, payload_hash from landing where parse_error is null and endpoint <> 'athlete'"
            ).fetchall()
        )
    finally:
        con.close()


@pytest.fixture(scope="module")
def world():
    return synthetic_world(2, 230)  # two list pages per athlete


@pytest.fixture(scope="module")
def clean_run(world, tmp_path_factory):
    from pipeline.strava_stub.server import StubServer

    with StubServer(world) as server:
        s = settings_for(tmp_path_factory.mktemp("clean"), server, lookback_weeks=2)
        register_all(s, world)
        sync_all(s)
        return snapshot(s), landing_keys(s)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_sync_survives_fault_and_clean_rerun_matches_fault_free_run(
    fault, world, clean_run, tmp_path, start_stub, record
):
    clean_tables, clean_landing = clean_run
    server = start_stub(world)
    s = settings_for(tmp_path, server, lookback_weeks=2, http_timeout_s=0.6, retries=2)
    register_all(s, world)
    server.inject(**FAULTS[fault])

    faulty = sync_all(s)  # must not raise, whatever the server does

    fired = sum(server.stats()["faults_fired"].values())
    server.clear_faults()
    reruns = 0
    while count(s, "select count(*) from fetch_queue") or any(r.status != "ok" for r in faulty):
        faulty = sync_all(s)
        reruns += 1
        assert reruns <= 4, [r.summary() for r in faulty]

    assert fired > 0
    assert snapshot(s) == clean_tables
    assert clean_landing <= landing_keys(s)  # nothing a clean run keeps is missing
    record.update(fault=fault, faults_injected=fired, reruns=reruns, rows_lost=0, duplicates=0)
