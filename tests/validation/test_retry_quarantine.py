"""`retry_quarantine`: nothing is lost; quarantined rows come back when the suite (or the data
they depend on) changes, through the loader's own merge."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipeline.loading import merge_frame
from pipeline.validation import retry_quarantine, validate_frames
from tests.validation.conftest import open_quarantine, run, shoe, split, typed_frame, write_suites

FAST_PACE = {"distance": 21_000.0, "moving_time": 2_700, "elapsed_time": 2_700}  # 2:09/km: quicker than the bound


def test_relaxed_suite_releases_the_row_into_the_table(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **FAST_PACE)])}, "batch-1")
    assert open_quarantine(con) == {"1": ["run_pace_within_human_limits"]}
    relaxed = write_suites(tmp_path / "suites", {"activities": {"run_pace_within_human_limits": {"min_value": 120}}})

    released = retry_quarantine(con, merge_frame, suites_dir=relaxed)

    assert released == {"activities": 1}
    assert con.execute("select activity_id, distance, start_date from activities").fetchall() == [
        (1, 21_000.0, run(1)["start_date"])
    ]
    assert open_quarantine(con) == {}
    assert con.execute("select released_at is not null from quarantine").fetchall() == [(True,)]


def test_unchanged_suite_releases_nothing(con: duckdb.DuckDBPyConnection) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **FAST_PACE)])}, "batch-1")
    assert retry_quarantine(con, merge_frame) == {"activities": 0}
    assert con.execute("select count(*) from activities").fetchone() == (0,)
    assert open_quarantine(con) == {"1": ["run_pace_within_human_limits"]}


def test_retry_records_the_current_reasons(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **FAST_PACE)])}, "batch-1")
    stricter = write_suites(tmp_path / "suites", {"activities": {"run_distance_within_bounds": {"max_value": 20_000}}})
    retry_quarantine(con, merge_frame, suites_dir=stricter)
    assert open_quarantine(con) == {"1": ["run_distance_within_bounds", "run_pace_within_human_limits"]}


def test_run_waiting_for_its_shoe_is_released_once_the_shoe_is_loaded(con: duckdb.DuckDBPyConnection) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, gear_id="g1")])}, "batch-1")
    assert open_quarantine(con) == {"1": ["run_gear_exists"]}
    merge_frame(con, "gear", typed_frame(con, "gear", [shoe("g1")]))
    assert retry_quarantine(con, merge_frame) == {"activities": 1}


def test_splits_are_released_with_their_activity(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    frames = {
        "activities": typed_frame(con, "activities", [run(1, distance=2000.0, moving_time=250, elapsed_time=250)]),
        "splits": typed_frame(con, "splits", [split(1, 1), split(1, 2)]),
    }
    validate_frames(con, frames, "batch-1")
    relaxed = write_suites(tmp_path / "suites", {"activities": {"run_pace_within_human_limits": {"min_value": 100}}})

    released = retry_quarantine(con, merge_frame, suites_dir=relaxed)

    assert released == {"activities": 1, "splits": 2}
    assert con.execute("select split from splits order by split").fetchall() == [(1,), (2,)]


def test_newer_version_supersedes_the_quarantined_one(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **FAST_PACE)])}, "batch-1")
    newer = validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, name="Fixed")])}, "batch-2")
    merge_frame(con, "activities", newer["activities"])
    relaxed = write_suites(tmp_path / "suites", {"activities": {"run_pace_within_human_limits": {"min_value": 1}}})

    assert retry_quarantine(con, merge_frame, suites_dir=relaxed) == {}
    assert con.execute("select name, distance from activities").fetchall() == [("Fixed", 10_000.0)]
    # superseded rows are no longer open for anyone reading `released_at is null`
    assert con.execute("select superseded_by, released_at is not null from quarantine").fetchall() == [
        ("batch-2", True)
    ]


def test_landing_is_untouched_by_validation_and_retry(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """insert into landing (landing_id, athlete_id, endpoint, object_id, fetched_at, batch_id, payload, payload_hash)
           values (1, 7, 'activity_detail', '1', now(), 'batch-1', '{"id": 1}', 'h')"""
    )
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **FAST_PACE)])}, "batch-1")
    retry_quarantine(con, merge_frame)
    assert con.execute("select count(*) from landing").fetchone() == (1,)


def test_retry_is_recorded_as_a_run(con: duckdb.DuckDBPyConnection) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **FAST_PACE)])}, "batch-1")
    retry_quarantine(con, merge_frame)
    rows = con.execute(
        "select rows_checked, rows_passed, rows_quarantined from validation_runs where batch_id like 'retry-%'"
    ).fetchall()
    assert rows == [(1, 0, 1)]


def test_a_quarantine_where_every_row_lacks_a_field_is_rechecked_row_by_row(con: duckdb.DuckDBPyConnection) -> None:
    """The batch-level 'nothing parsed' checks judge API batches, not the quarantine: rows held
    back for a missing distance may be all the quarantine holds."""
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1), run(2, distance=None)])}, "batch-1")
    assert open_quarantine(con) == {"2": ["distance_not_null"]}

    assert retry_quarantine(con, merge_frame) == {"activities": 0}
    assert open_quarantine(con) == {"2": ["distance_not_null"]}
