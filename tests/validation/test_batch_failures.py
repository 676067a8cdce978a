"""Batch-level failures (schema drift, a broken suite) stop the step loudly, naming suite and
expectation; and every run is recorded in validation_runs."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipeline.validation import BatchValidationError, validate_frames
from tests.validation.conftest import ATHLETE, open_quarantine, run, split, typed_frame, write_suites


def test_missing_required_column_fails_the_batch_naming_suite_and_expectation(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "activities", [run(1)]).drop(columns=["moving_time"])
    with pytest.raises(
        BatchValidationError,
        match=r"suite 'activities', expectation moving_time_column_exists .*column 'moving_time' is missing",
    ):
        validate_frames(con, {"activities": frame}, "batch-1")
    assert open_quarantine(con) == {}


def test_column_that_changed_type_fails_the_batch(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "activities", [run(1)])
    frame["distance"] = ["10.0 km"]
    with pytest.raises(BatchValidationError, match=r"suite 'activities', expectation distance_is_a_number .*VARCHAR"):
        validate_frames(con, {"activities": frame}, "batch-1")


def test_timestamps_arriving_as_text_fail_the_batch(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "activities", [run(1)])
    frame["start_date"] = ["2026-11-03T07:00:00Z"]
    with pytest.raises(BatchValidationError, match="start_date_is_a_timestamp"):
        validate_frames(con, {"activities": frame}, "batch-1")


def test_splits_without_their_index_fail_the_batch(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "splits", [split(1, 1)]).drop(columns=["split"])
    with pytest.raises(BatchValidationError, match=r"suite 'splits', expectation split_column_exists"):
        validate_frames(con, {"splits": frame}, "batch-1")


def test_a_column_empty_in_the_whole_batch_is_not_a_type_change(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "activities", [run(1, average_cadence=None, average_heartrate=None, max_heartrate=None)])
    frame["average_cadence"] = frame["average_cadence"].astype(object)
    passed = validate_frames(con, {"activities": frame}, "batch-1")
    assert len(passed["activities"]) == 1


def test_batch_failure_is_recorded_as_a_failed_run(con: duckdb.DuckDBPyConnection) -> None:
    frame = typed_frame(con, "activities", [run(1)]).drop(columns=["start_date"])
    with pytest.raises(BatchValidationError):
        validate_frames(con, {"activities": frame}, "batch-1")
    suite, success, message = con.execute("select suite, success, message from validation_runs").fetchone()
    assert (suite, success) == ("activities", False)
    assert "start_date_column_exists" in message


def test_unknown_expectation_type_in_a_suite_names_suite_and_expectation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    suites = write_suites(tmp_path / "suites")
    data = json.loads((suites / "gear.json").read_text())
    data["expectations"].append(
        {"name": "shoe_is_comfy", "level": "row", "type": "expect_shoe_to_be_comfy", "kwargs": {"column": "name"}}
    )
    (suites / "gear.json").write_text(json.dumps(data))
    with pytest.raises(BatchValidationError, match=r"suite 'gear': expectation shoe_is_comfy"):
        validate_frames(
            con,
            {"gear": typed_frame(con, "gear", [{"gear_id": "g1", "athlete_id": ATHLETE}])},
            "batch-1",
            suites_dir=suites,
        )


def test_every_suite_run_is_recorded_with_its_counts(con: duckdb.DuckDBPyConnection) -> None:
    frames = {
        "activities": typed_frame(con, "activities", [run(1), run(2), run(3, average_cadence=140.0)]),
        "splits": typed_frame(con, "splits", []),
    }
    validate_frames(con, frames, "batch-1")
    rows = con.execute(
        """select suite, batch_id, rows_checked, rows_passed, rows_quarantined, success, athlete_ids, duration_s >= 0
           from validation_runs order by suite"""
    ).fetchall()
    assert rows == [
        ("activities", "batch-1", 3, 2, 1, False, [ATHLETE], True),
        ("splits", "batch-1", 0, 0, 0, True, [], True),
    ]


def test_batch_where_no_start_date_parsed_fails_instead_of_quarantining_every_row(
    con: duckdb.DuckDBPyConnection,
) -> None:
    frame = typed_frame(con, "activities", [run(1, start_date=None), run(2, start_date=None)])
    with pytest.raises(BatchValidationError, match=r"suite 'activities', expectation start_dates_parsed .*observed 0"):
        validate_frames(con, {"activities": frame}, "batch-1")
    assert open_quarantine(con) == {}


def test_derived_column_shadowing_a_batch_column_fails_the_batch(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    suites = write_suites(tmp_path / "suites")
    data = json.loads((suites / "gear.json").read_text())
    data["derived_columns"]["distance"] = {"sql": "distance * 2"}
    (suites / "gear.json").write_text(json.dumps(data))
    with pytest.raises(BatchValidationError, match=r"suite 'gear': derived column\(s\) distance"):
        validate_frames(
            con,
            {"gear": typed_frame(con, "gear", [{"gear_id": "g1", "athlete_id": ATHLETE}])},
            "batch-1",
            suites_dir=suites,
        )
