"""The validation report (latest runs, open quarantine per athlete), the email's data-quality
note, and the `backstride validate` command on a real warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import load_settings
from pipeline.loading import merge_frame
from pipeline.validation import quality_note, validate_frames, validation_report
from pipeline.warehouse import writer
from tests.validation.conftest import ATHLETE, run, typed_frame

OTHER = 8
GLITCH = {"distance": 212_000.0, "moving_time": 3000, "elapsed_time": 3000}


def test_report_counts_open_quarantine_per_athlete_with_reasons(con: duckdb.DuckDBPyConnection) -> None:
    rows = [run(1), run(2, **GLITCH), run(3, average_cadence=140.0), run(4, athlete_id=OTHER, max_heartrate=250.0)]
    validate_frames(con, {"activities": typed_frame(con, "activities", rows)}, "batch-1")

    report = validation_report(con)

    assert [(q.athlete_id, q.table_name, q.open_rows, q.reasons) for q in report.open_quarantine] == [
        (ATHLETE, "activities", 2, ("run_pace_within_human_limits", "run_steps_per_minute_within_bounds")),
        (OTHER, "activities", 1, ("max_heartrate_within_bounds",)),
    ]


def test_report_lists_latest_runs_newest_first(con: duckdb.DuckDBPyConnection) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1)])}, "batch-1")
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(2, **GLITCH)])}, "batch-2")

    runs = validation_report(con).latest_runs

    assert [(r.batch_id, r.rows_checked, r.rows_quarantined, r.success) for r in runs] == [
        ("batch-2", 1, 1, False),
        ("batch-1", 1, 0, True),
    ]


def test_released_rows_are_no_longer_open(con: duckdb.DuckDBPyConnection) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1, **GLITCH)])}, "batch-1")
    con.execute("update quarantine set released_at = now()")
    assert validation_report(con).open_quarantine == []


def test_quality_note_names_what_was_held_back_and_why(con: duckdb.DuckDBPyConnection) -> None:
    validate_frames(con, {"activities": typed_frame(con, "activities", [run(1), run(2, **GLITCH)])}, "batch-1")
    report = validation_report(con)
    note = quality_note(report, ATHLETE)
    assert note is not None
    assert note.startswith("1 activity held back by data checks (run pace within human limits)")
    assert quality_note(report, OTHER) is None


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BACKSTRIDE_HOME", str(tmp_path / "home"))
    settings = load_settings()
    with writer(settings) as con:
        rows = [run(1), run(2, **GLITCH)]
        passed = validate_frames(con, {"activities": typed_frame(con, "activities", rows)}, "batch-1")
        merge_frame(con, "activities", passed["activities"])
    return settings.home


def test_validate_report_command_prints_runs_and_open_quarantine(home: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--report"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "activities" in result.output and "batch-1" in result.output
    assert f"{ATHLETE}" in result.output and "run_pace_within_human_limits" in result.output


def test_validate_retry_command_reports_released_rows(home: Path) -> None:
    result = CliRunner().invoke(app, ["validate", "--retry-quarantine"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "0 rows released" in result.output


def test_validate_report_without_a_warehouse_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKSTRIDE_HOME", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["validate", "--report"])
    assert result.exit_code == 1
    assert "no warehouse" in result.output
