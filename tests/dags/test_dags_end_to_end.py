"""The four DAGs under real Airflow (`dag.test()` on a migrated SQLite database), against the
local Strava stub and a loopback SMTP server: sync -> build -> digest, webhook events into the
warehouse, deauthorization, and a digest that is never sent twice.

Slow by nature (Airflow runs each DAG in-process, about ten seconds each): one stack is shared
by the module and the tests run in file order, each building on the previous one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from dags_support import DAGS_DIR
from e2e_support import Stack, activity_in_warehouse, receiver, running_stack

from pipeline.warehouse import connect_reader, tables_with_athlete_id
from tests.lake_support import raw_traces

pytestmark = [pytest.mark.airflow, pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def airflow_db() -> None:
    """`airflow db migrate` once into the throwaway AIRFLOW_HOME (about 10-15 s)."""
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=300, env=os.environ.copy())


@pytest.fixture(scope="module")
def stack(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("home")) as s:
        saved = {k: os.environ.get(k) for k in s.airflow_env()}
        os.environ.update(s.airflow_env())
        try:
            yield s
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


@pytest.fixture(scope="module")
def dags(airflow_db: None) -> dict:
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(DAGS_DIR, bundle_path=DAGS_DIR)
    assert bag.import_errors == {}
    return bag.dags


def run(dag, **kwargs) -> dict[str, str]:
    """dag.test(); returns {task_id: state}."""
    dag_run = dag.test(**kwargs)
    assert dag_run is not None
    return {ti.task_id: str(ti.state) for ti in dag_run.get_task_instances()}


def count(settings, sql: str, params: list | None = None) -> int:
    con = connect_reader(settings)
    try:
        return con.execute(sql, params or []).fetchone()[0]
    finally:
        con.close()


def digest_logical_date(stack: Stack) -> datetime:
    """The Monday after the stub world's last complete week, at the DAG's 12:00 UTC."""
    monday = stack.world.week()[0] + timedelta(days=7)
    return datetime.combine(monday, time(12), tzinfo=UTC)


def test_sync_then_build_then_digest_emails_every_athlete(stack: Stack, dags: dict) -> None:
    assert run(dags["strava_sync"]) == {"sync_athletes": "success"}
    assert count(stack.settings, "select count(*) from activities") > 0

    assert run(dags["warehouse_build"]) == {"validate": "success", "build_models": "success"}
    assert count(stack.settings, "select count(*) from risk_flags") > 0

    states = run(dags["weekly_digest"], logical_date=digest_logical_date(stack))
    assert states == {"build_models": "success", "send_digests": "success"}
    recipients = sorted(m["To"].addresses[0].addr_spec for m in stack.mailbox.messages)
    assert recipients == sorted(a.email for a in stack.world.athletes.values())
    week = stack.world.week()[0]
    assert count(
        stack.settings, "select count(*) from digest_log where status = 'sent' and week_start = ?", [week]
    ) == len(stack.world.athletes)


def test_a_second_digest_run_for_the_same_week_sends_nothing(stack: Stack, dags: dict) -> None:
    before = len(stack.mailbox.messages)
    later = digest_logical_date(stack) + timedelta(hours=3)  # a manual re-run the same Monday
    assert run(dags["weekly_digest"], logical_date=later)["send_digests"] == "success"
    assert len(stack.mailbox.messages) == before


def test_an_activity_event_posted_to_the_receiver_lands_in_the_warehouse(stack: Stack, dags: dict) -> None:
    athlete_id = next(iter(stack.world.athletes))
    activity = stack.new_run(athlete_id)
    with receiver(stack):
        assert stack.stub.push_event("activity", activity["id"], "create", athlete_id) == 200
        assert stack.stub.push_event("activity", activity["id"], "create", athlete_id) == 200  # Strava's retry
    assert not activity_in_warehouse(stack.settings, activity["id"])
    assert run(dags["strava_events"]) == {"process_events": "success"}
    assert activity_in_warehouse(stack.settings, activity["id"])


def test_a_deauthorization_event_leaves_no_row_of_the_athlete_anywhere(stack: Stack, dags: dict) -> None:
    athlete_id = list(stack.world.athletes)[1]
    assert count(stack.settings, "select count(*) from activities where athlete_id = ?", [athlete_id]) > 0
    with receiver(stack):
        status = stack.stub.push_event("athlete", athlete_id, "update", athlete_id, updates={"authorized": "false"})
        assert status == 200
    assert run(dags["strava_events"]) == {"process_events": "success"}
    con = connect_reader(stack.settings)
    try:
        left = {
            t: n
            for t in tables_with_athlete_id(con)
            if (n := con.execute(f'select count(*) from "{t}" where athlete_id = ?', [athlete_id]).fetchone()[0])
        }
    finally:
        con.close()
    assert left == {}
    assert not (stack.settings.secrets_dir / "tokens" / f"{athlete_id}.json").exists()
    email = stack.world.athlete(athlete_id).email
    assert raw_traces(stack.settings, athlete_id, email) == []


def test_events_runs_are_skipped_when_the_inbox_is_empty(stack: Stack, dags: dict) -> None:
    assert run(dags["strava_events"]) == {"process_events": "skipped"}
