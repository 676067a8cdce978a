"""Every DAG imports cleanly, is documented, tagged, owned, retried, and parses fast."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from dags_support import DAGS_DIR

EXPECTED = {"strava_sync", "strava_events", "warehouse_build", "warehouse_maintenance", "weekly_digest"}
POOLS = {"default_pool", "strava_api", "duckdb_writer"}
DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if p.name != "backstride_common.py")
PARSE_BUDGET_S = 0.5
OVERHEAD_BUDGET_S = 0.3


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(DAGS_DIR, bundle_path=DAGS_DIR, known_pools=POOLS)


def test_every_dag_file_imports_without_errors(dagbag) -> None:
    assert dagbag.import_errors == {}


def test_the_five_dags_exist(dagbag) -> None:
    assert set(dagbag.dag_ids) == EXPECTED


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_each_dag_is_documented_tagged_and_single_run(dagbag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert dag.doc_md and dag_id in dag.doc_md
    assert "backstride" in dag.tags and len(dag.tags) >= 2
    assert dag.max_active_runs == 1
    assert dag.catchup is False


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_each_task_retries_with_exponential_backoff_and_alerts_on_failure(dagbag, dag_id: str) -> None:
    for t in dagbag.dags[dag_id].tasks:
        assert t.owner == "backstride"
        assert t.retries >= 2
        assert t.retry_exponential_backoff > 1
        assert t.max_retry_delay >= timedelta(minutes=5)
        assert t.on_failure_callback, f"{t.task_id} has no on_failure_callback"
        assert t.doc_md, f"{t.task_id} has no docstring"


def test_tasks_spending_the_strava_limit_share_one_pool(dagbag) -> None:
    for dag_id in ("strava_sync", "strava_events"):
        assert {t.pool for t in dagbag.dags[dag_id].tasks} == {"strava_api"}


def test_warehouse_writers_share_one_pool(dagbag) -> None:
    for dag_id in ("warehouse_build", "weekly_digest"):
        assert {t.pool for t in dagbag.dags[dag_id].tasks} == {"duckdb_writer"}


def _asset_names(condition) -> set[str]:
    """Names of the assets in a schedule condition (an Asset, or AssetAll/AssetAny of them)."""
    if condition is None:
        return set()
    if hasattr(condition, "objects"):
        return set().union(*(_asset_names(c) for c in condition.objects))
    return {condition.name}


def test_assets_chain_events_to_sync_to_build(dagbag) -> None:
    from pipeline.webhooks.assets import WEBHOOK_ASSET_NAME

    dags = dagbag.dags
    assert WEBHOOK_ASSET_NAME in _asset_names(dags["strava_events"].timetable.asset_condition)
    assert WEBHOOK_ASSET_NAME in _asset_names(dags["strava_sync"].timetable.asset_condition)
    for dag_id in ("strava_sync", "strava_events"):
        outlets = {o.name for t in dags[dag_id].tasks for o in t.outlets}
        assert "warehouse_activities" in outlets
    assert _asset_names(dags["warehouse_build"].timetable.asset_condition) == {"warehouse_activities"}


def test_the_digest_runs_on_monday(dagbag) -> None:
    assert dagbag.dags["weekly_digest"].timetable.expression.endswith("* * 1")


PARSE_SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_dags.py"


@pytest.fixture(scope="module")
def parse_times() -> dict[str, dict]:
    """Each DAG file parsed in a fork of a process that has Airflow imported, as the DAG processor does."""
    out = subprocess.run(
        [sys.executable, str(PARSE_SCRIPT), "--parse-only", "--json", "--repeat", "3"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_each_dag_file_adds_little_to_what_airflow_itself_costs(parse_times: dict, path: Path) -> None:
    """Against a trivial one-task DAG parsed the same way: our part (helper module, assets,
    schedules) must stay small whatever the machine's load."""
    ours = parse_times[path.name]["seconds"] - parse_times["_baseline_trivial_dag"]["seconds"]
    assert ours < OVERHEAD_BUDGET_S, f"{path.name} adds {ours:.3f} s to a trivial DAG's parse time"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_each_dag_file_parses_well_under_half_a_second(parse_times: dict, path: Path) -> None:
    if os.getloadavg()[0] > 2 * (os.cpu_count() or 1):
        pytest.skip("machine overloaded: absolute times are meaningless; the overhead test above still runs")
    seconds = parse_times[path.name]["seconds"]
    assert seconds < PARSE_BUDGET_S, f"{path.name} took {seconds:.3f} s"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_no_dag_file_imports_a_heavy_module_at_parse_time(parse_times: dict, path: Path) -> None:
    assert parse_times[path.name]["heavy"] == []


def test_no_connection_or_variable_is_read_at_parse_time() -> None:
    for path in [*DAG_FILES, DAGS_DIR / "backstride_common.py"]:
        module_level = [
            line for line in path.read_text().splitlines() if line and not line.startswith((" ", "\t", "#"))
        ]
        assert not any("Connection.get" in line or "Variable.get" in line for line in module_level), path.name
