"""The run sport types have one owner, the activity_categories seed: the activities suite refers
to them by name (`$run_sport_types`), so editing the seed changes what the suite holds to run
bounds, and every type the seed calls a run is one Strava knows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import get_args

import duckdb
import pytest
from stravalib.strava_model import SportType

from pipeline import sport_types
from pipeline.sport_types import CATEGORIES_SEED, run_sport_types
from pipeline.validation import DEFAULT_SUITES_DIR, load_suite, validate_frames
from pipeline.validation.named_sets import sql_list
from tests.validation.conftest import open_quarantine, run, typed_frame

RUN_COLUMNS = ("run_distance_m", "run_moving_time_s", "run_pace_s_per_km", "run_steps_per_minute", "run_gear_known")


def seed_with_runs(tmp_path: Path, runs: list[str]) -> Path:
    """A copy of the seeds folder whose activity_categories seed has exactly `runs` as its run types."""
    with (sport_types.SEEDS_DIR / CATEGORIES_SEED).open(newline="") as seed:
        rows = [r for r in csv.DictReader(seed) if r["category"] != "run"]
    rows = [{"category": "run", "match_on": "sport_type", "value": sport} for sport in runs] + rows
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    with (seeds / CATEGORIES_SEED).open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["category", "match_on", "value"])
        writer.writeheader()
        writer.writerows(rows)
    return seeds


def test_every_run_sport_type_in_the_seed_is_a_strava_sport_type() -> None:
    strava_sport_types = set(get_args(SportType.model_fields["root"].annotation))
    assert run_sport_types(), "the seed names no run sport type"
    assert [sport for sport in run_sport_types() if sport not in strava_sport_types] == []


def test_the_activities_suite_reads_its_run_columns_from_the_seed() -> None:
    suite = load_suite("activities")
    for column in RUN_COLUMNS:
        assert f"sport_type in {sql_list(run_sport_types())}" in suite.derived_columns[column], column


def test_no_suite_file_spells_out_the_run_sport_types() -> None:
    for path in sorted(DEFAULT_SUITES_DIR.glob("*.json")):
        derived = json.loads(path.read_text()).get("derived_columns", {})
        for name, spec in derived.items():
            assert "'TrailRun'" not in spec["sql"] and "'VirtualRun'" not in spec["sql"], f"{path.name}: {name}"


def test_a_sport_removed_from_the_seeds_runs_is_no_longer_held_to_run_bounds(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ultra = run(1, sport_type="TrailRun", distance=400_000.0, moving_time=40 * 3600, elapsed_time=41 * 3600)
    validate_frames(con, {"activities": typed_frame(con, "activities", [ultra])}, "batch-1")
    assert open_quarantine(con) == {"1": ["run_distance_within_bounds"]}

    monkeypatch.setattr(sport_types, "SEEDS_DIR", seed_with_runs(tmp_path, ["Run", "VirtualRun"]))
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", [ultra])}, "batch-2")
    assert passed["activities"]["activity_id"].tolist() == [1]


def test_a_sport_added_to_the_seeds_runs_is_held_to_run_bounds(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    walk = run(1, sport_type="Walk", average_cadence=40.0)  # 80 steps per minute: a walk, not a run
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", [walk])}, "batch-1")
    assert passed["activities"]["activity_id"].tolist() == [1]

    monkeypatch.setattr(sport_types, "SEEDS_DIR", seed_with_runs(tmp_path, [*run_sport_types(), "Walk"]))
    validate_frames(con, {"activities": typed_frame(con, "activities", [walk])}, "batch-2")
    assert open_quarantine(con) == {"1": ["run_steps_per_minute_within_bounds"]}


def test_a_named_set_becomes_an_sql_list_of_quoted_literals() -> None:
    assert sql_list(("Run", "Parkrun's")) == "('Run', 'Parkrun''s')"


def test_an_empty_named_set_matches_nothing(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(f"select 'Run' in {sql_list(())}").fetchone() == (None,)
