"""Each row expectation: a row that breaks it is quarantined with that reason, a good row
in the same batch passes, and the batch goes on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.validation import validate_frames
from tests.validation.conftest import athlete, features, open_quarantine, run, shoe, split, typed_frame

HOUR = 3600
KEY_COLUMNS = {
    "activities": "activity_id",
    "gear": "gear_id",
    "stream_features": "activity_id",
    "athletes": "athlete_id",
}


def only_bad_row_is_held(
    con: duckdb.DuckDBPyConnection,
    table: str,
    good: dict[str, Any],
    bad: dict[str, Any],
    key: str,
    expectation: str,
    context: dict[str, list[dict[str, Any]]] | None = None,
) -> None:
    frames = {name: typed_frame(con, name, rows) for name, rows in (context or {}).items()}
    frames[table] = typed_frame(con, table, [good, bad])
    passed = validate_frames(con, frames, "batch-1")
    key_column = KEY_COLUMNS[table]
    assert passed[table][key_column].tolist() == [good[key_column]]
    assert open_quarantine(con, table) == {key: [expectation]}


# --- activities --------------------------------------------------------------------------

ACTIVITY_CASES = [
    ("activity_id_not_null", {"activity_id": None}, "null"),
    ("athlete_id_not_null", {"athlete_id": None}, "2"),
    ("sport_type_not_null", {"sport_type": None}, "2"),
    ("start_date_not_null", {"start_date": None}, "2"),
    ("distance_not_null", {"distance": None}, "2"),
    ("moving_time_not_null", {"moving_time": None}, "2"),
    ("elapsed_time_not_null", {"elapsed_time": None}, "2"),
    ("sport_type_known", {"sport_type": "Teleport"}, "2"),
    ("moving_time_within_elapsed_time", {"moving_time": 3200, "elapsed_time": 3100}, "2"),
    ("moving_time_within_elapsed_time", {"moving_time": 3106, "elapsed_time": 3100}, "2"),  # past the rounding
    ("distance_within_bounds", {"sport_type": "Swim", "distance": -5.0}, "2"),
    ("moving_time_within_bounds", {"sport_type": "Workout", "moving_time": -1}, "2"),
    ("elapsed_time_within_bounds", {"sport_type": "Workout", "elapsed_time": 8 * 24 * HOUR}, "2"),
    ("run_distance_within_bounds", {"distance": 400_000.0, "moving_time": 40 * HOUR, "elapsed_time": 41 * HOUR}, "2"),
    (
        "run_moving_time_within_bounds",
        {"distance": 300_000.0, "moving_time": 50 * HOUR, "elapsed_time": 51 * HOUR},
        "2",
    ),
    ("run_pace_within_human_limits", {"distance": 212_000.0, "moving_time": 3000}, "2"),  # GPS glitch
    ("run_pace_within_human_limits", {"distance": 2_000.0, "moving_time": 2 * HOUR, "elapsed_time": 2 * HOUR}, "2"),
    ("run_steps_per_minute_within_bounds", {"average_cadence": 140.0}, "2"),  # 280 spm
    ("run_steps_per_minute_within_bounds", {"average_cadence": 45.0}, "2"),  # 90 spm
    ("average_heartrate_within_bounds", {"average_heartrate": 20.0}, "2"),
    ("max_heartrate_within_bounds", {"max_heartrate": 245.0}, "2"),
    (
        "walk_distance_within_bounds",
        {"sport_type": "Walk", "distance": 300_000.0, "moving_time": 90 * HOUR, "elapsed_time": 90 * HOUR},
        "2",
    ),
    ("run_gear_exists", {"gear_id": "g404"}, "2"),
]


@pytest.mark.parametrize(
    ("expectation", "overrides", "key"), ACTIVITY_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(ACTIVITY_CASES)]
)
def test_activity_breaking_an_expectation_is_quarantined_with_that_reason(
    con: duckdb.DuckDBPyConnection, expectation: str, overrides: dict[str, Any], key: str
) -> None:
    only_bad_row_is_held(con, "activities", run(1), {**run(2), **overrides}, key, expectation)


def test_activity_starting_in_the_future_is_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    only_bad_row_is_held(con, "activities", run(1), run(2, start_date=tomorrow), "2", "start_date_not_in_future")


def test_repeated_activity_id_in_a_batch_is_quarantined_once(con: duckdb.DuckDBPyConnection) -> None:
    rows = [run(1), run(2), run(2, start_date=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))]
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", rows)}, "batch-1")
    assert passed["activities"]["activity_id"].tolist() == [1]
    assert open_quarantine(con) == {"2": ["activity_id_unique"]}


def test_second_recording_of_a_loaded_activity_is_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    loaded = typed_frame(con, "activities", [run(1)])
    con.register("loaded", loaded)
    con.execute("insert into activities by name select * from loaded")
    same_start = run(5, start_date=run(1)["start_date"])
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", [run(2), same_start])}, "batch-1")
    assert passed["activities"]["activity_id"].tolist() == [2]
    assert open_quarantine(con) == {"5": ["not_a_second_recording"]}


def test_second_recording_within_a_batch_keeps_the_first_id(con: duckdb.DuckDBPyConnection) -> None:
    rows = [run(9, start_date=run(1)["start_date"]), run(1)]
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", rows)}, "batch-1")
    assert passed["activities"]["activity_id"].tolist() == [1]
    assert open_quarantine(con) == {"9": ["not_a_second_recording"]}


def test_run_with_a_shoe_from_the_same_batch_passes(con: duckdb.DuckDBPyConnection) -> None:
    frames = {
        "gear": typed_frame(con, "gear", [shoe("g1")]),
        "activities": typed_frame(con, "activities", [run(1, gear_id="g1")]),
    }
    passed = validate_frames(con, frames, "batch-1")
    assert len(passed["activities"]) == 1
    assert open_quarantine(con) == {}


def test_run_with_a_shoe_already_in_the_gear_table_passes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("insert into gear (gear_id, athlete_id, gear_type) values ('g1', 7, 'shoe')")
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, gear_id="g1")])}, "batch-1")
    assert len(passed["activities"]) == 1


def test_plausible_activities_of_several_sports_all_pass(con: duckdb.DuckDBPyConnection) -> None:
    rows = [
        run(1),
        run(2, sport_type="TrailRun", distance=21_000.0, moving_time=9000, elapsed_time=9900, average_cadence=None),
        run(3, sport_type="Ride", distance=80_000.0, moving_time=10_800, elapsed_time=11_000, average_cadence=88.0),
        run(4, sport_type="WeightTraining", distance=0.0, moving_time=2400, elapsed_time=2400, average_cadence=None),
        run(5, sport_type="Walk", distance=5_000.0, moving_time=3600, elapsed_time=3700, average_cadence=55.0),
        run(6, distance=400.0, moving_time=60, elapsed_time=60),  # a short stride: too short to judge pace
    ]
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", rows)}, "batch-1")
    assert passed["activities"]["activity_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert open_quarantine(con) == {}


def test_moving_time_over_elapsed_time_by_strava_rounding_passes_up_to_five_seconds(
    con: duckdb.DuckDBPyConnection,
) -> None:
    """Strava rounds both times to whole seconds: real runs show moving time a second over elapsed."""
    rows = [run(1, moving_time=2698, elapsed_time=2697), run(2, moving_time=3105, elapsed_time=3100)]
    passed = validate_frames(con, {"activities": typed_frame(con, "activities", rows)}, "batch-1")
    assert passed["activities"]["activity_id"].tolist() == [1, 2]
    assert open_quarantine(con) == {}


def test_the_rounding_tolerance_says_how_much_and_why() -> None:
    import json

    suite = json.loads((Path(__file__).resolve().parents[2] / "expectations" / "activities.json").read_text())
    [entry] = [e for e in suite["expectations"] if e["name"] == "moving_time_within_elapsed_time"]
    assert entry["kwargs"]["max_value"] == 5
    assert "5 s" in entry["notes"] and "rounds" in entry["notes"]


def test_passing_rows_keep_the_frame_columns(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "activities", [run(1)])
    passed = validate_frames(con, {"activities": frame}, "batch-1")
    assert list(passed["activities"].columns) == list(frame.columns)


# --- splits ------------------------------------------------------------------------------


def run_with_splits(
    con: duckdb.DuckDBPyConnection, splits: list[dict[str, Any]], distance: float = 2500.0
) -> dict[str, Any]:
    frames = {
        "activities": typed_frame(con, "activities", [run(1, distance=distance, moving_time=750, elapsed_time=780)]),
        "splits": typed_frame(con, "splits", splits),
    }
    return validate_frames(con, frames, "batch-1")


def test_splits_that_add_up_pass(con: duckdb.DuckDBPyConnection) -> None:
    passed = run_with_splits(con, [split(1, 1), split(1, 2), split(1, 3, 500.0)])
    assert len(passed["splits"]) == 3
    assert open_quarantine(con) == {}


@pytest.mark.parametrize(
    ("expectation", "splits", "key"),
    [
        ("split_index_within_bounds", [split(1, 1), split(1, 2), split(1, -1, 500.0)], "1:-1"),
        ("split_distance_within_bounds", [split(1, 1, 1500.0), split(1, 2, 500.0), split(1, 3, 500.0)], "1:1"),
        (
            "split_moving_time_within_elapsed_time",
            [split(1, 1), split(1, 2, moving_time=400), split(1, 3, 500.0)],
            "1:2",
        ),
        (
            "split_elapsed_time_within_bounds",
            [split(1, 1), split(1, 2, elapsed_time=90_000, moving_time=300), split(1, 3, 500.0)],
            "1:2",
        ),
        (
            "split_average_heartrate_within_bounds",
            [split(1, 1), split(1, 2, average_heartrate=250.0), split(1, 3, 500.0)],
            "1:2",
        ),
        ("split_unique_per_activity", [split(1, 1), split(1, 2, 750.0), split(1, 2, 750.0)], "1:2"),
    ],
)
def test_split_breaking_an_expectation_is_quarantined_with_that_reason(
    con: duckdb.DuckDBPyConnection, expectation: str, splits: list[dict[str, Any]], key: str
) -> None:
    passed = run_with_splits(con, splits)
    assert len(passed["splits"]) == 3 - (2 if expectation == "split_unique_per_activity" else 1)
    assert open_quarantine(con, "splits") == {key: [expectation]}


def test_splits_that_do_not_add_up_are_all_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    passed = run_with_splits(con, [split(1, 1), split(1, 2)], distance=2500.0)
    assert passed["splits"].empty
    assert open_quarantine(con, "splits") == {
        "1:1": ["splits_add_up_to_activity_distance"],
        "1:2": ["splits_add_up_to_activity_distance"],
    }


def test_splits_of_an_unknown_activity_are_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    passed = validate_frames(con, {"splits": typed_frame(con, "splits", [split(99, 1)])}, "batch-1")
    assert passed["splits"].empty
    assert open_quarantine(con) == {"99:1": ["split_activity_exists"]}


def test_splits_of_a_quarantined_activity_wait_with_it(con: duckdb.DuckDBPyConnection) -> None:
    frames = {
        "activities": typed_frame(con, "activities", [run(1, distance=2000.0, moving_time=20)]),
        "splits": typed_frame(con, "splits", [split(1, 1), split(1, 2)]),
    }
    passed = validate_frames(con, frames, "batch-1")
    assert passed["activities"].empty and passed["splits"].empty
    assert open_quarantine(con, "splits") == {"1:1": ["split_activity_exists"], "1:2": ["split_activity_exists"]}


# --- gear, stream features, athletes -------------------------------------------------------


@pytest.mark.parametrize(
    ("expectation", "overrides"),
    [
        ("gear_type_known", {"gear_type": "skateboard"}),
        ("gear_distance_not_negative", {"gear_type": "bike", "distance": -1.0}),
        ("shoe_distance_within_bounds", {"distance": 60_000_000.0}),
        ("athlete_id_not_null", {"athlete_id": None}),
    ],
)
def test_gear_breaking_an_expectation_is_quarantined_with_that_reason(
    con: duckdb.DuckDBPyConnection, expectation: str, overrides: dict[str, Any]
) -> None:
    only_bad_row_is_held(con, "gear", shoe("g1"), shoe("g2", **overrides), "g2", expectation)


@pytest.mark.parametrize(
    ("expectation", "overrides"),
    [
        ("first_third_steps_per_minute_within_bounds", {"first_third_spm": 280.0}),
        ("last_third_steps_per_minute_within_bounds", {"last_third_spm": 90.0}),
        ("first_third_pace_within_bounds", {"first_third_pace_s_per_km": 100.0}),
        ("last_third_pace_within_bounds", {"last_third_pace_s_per_km": 4000.0}),
        ("first_third_heartrate_within_bounds", {"first_third_hr": 250.0}),
        ("last_third_heartrate_within_bounds", {"last_third_hr": 20.0}),
        ("cadence_samples_within_sample_count", {"cadence_samples": 3001}),
        ("heartrate_samples_within_sample_count", {"heartrate_samples": 3001}),
        ("duration_within_bounds", {"duration_s": -1.0}),
        ("sample_count_within_bounds", {"sample_count": 800_000, "cadence_samples": 0, "heartrate_samples": 0}),
    ],
)
def test_stream_features_breaking_an_expectation_are_quarantined_with_that_reason(
    con: duckdb.DuckDBPyConnection, expectation: str, overrides: dict[str, Any]
) -> None:
    context = {"activities": [run(1), run(2)]}
    only_bad_row_is_held(con, "stream_features", features(1), features(2, **overrides), "2", expectation, context)


def test_stream_features_without_cadence_or_heart_rate_pass(con: duckdb.DuckDBPyConnection) -> None:
    row = features(
        1,
        first_third_spm=None,
        last_third_spm=None,
        first_third_hr=None,
        last_third_hr=None,
        cadence_samples=0,
        heartrate_samples=0,
    )
    frames = {
        "activities": typed_frame(con, "activities", [run(1)]),
        "stream_features": typed_frame(con, "stream_features", [row]),
    }
    passed = validate_frames(con, frames, "batch-1")
    assert len(passed["stream_features"]) == 1


def test_stream_features_of_an_unknown_activity_are_quarantined(con: duckdb.DuckDBPyConnection) -> None:
    passed = validate_frames(con, {"stream_features": typed_frame(con, "stream_features", [features(99)])}, "batch-1")
    assert passed["stream_features"].empty
    assert open_quarantine(con) == {"99": ["stream_activity_exists"]}


@pytest.mark.parametrize(
    ("expectation", "overrides"),
    [
        ("timezone_is_iana", {"timezone": "Mars/Olympus_Mons"}),
        ("email_looks_like_an_address", {"email": "not an address"}),
    ],
)
def test_athlete_breaking_an_expectation_is_quarantined_with_that_reason(
    con: duckdb.DuckDBPyConnection, expectation: str, overrides: dict[str, Any]
) -> None:
    only_bad_row_is_held(con, "athletes", athlete(7), athlete(8, **overrides), "8", expectation)


def test_athlete_without_an_email_passes(con: duckdb.DuckDBPyConnection) -> None:
    passed = validate_frames(con, {"athletes": typed_frame(con, "athletes", [athlete(7, email=None)])}, "batch-1")
    assert len(passed["athletes"]) == 1


def test_splits_of_an_activity_held_back_in_this_batch_wait_even_if_an_older_version_is_loaded(
    con: duckdb.DuckDBPyConnection,
) -> None:
    older = typed_frame(con, "activities", [run(1, distance=5000.0)])
    con.register("older", older)
    con.execute("insert into activities by name select * from older")
    frames = {
        "activities": typed_frame(con, "activities", [run(1, distance=2000.0, moving_time=20)]),
        "splits": typed_frame(con, "splits", [split(1, 1), split(1, 2)]),
    }
    validate_frames(con, frames, "batch-2")
    assert open_quarantine(con, "splits") == {"1:1": ["split_activity_exists"], "1:2": ["split_activity_exists"]}
