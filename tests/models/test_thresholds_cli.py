"""`backstride thresholds`: list the catalogue, set and unset per-athlete overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from tests.lake_support import open_lake


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("BACKSTRIDE_HOME", str(tmp_path))
    return CliRunner()


def test_list_shows_every_rule_with_default_and_grade(cli: CliRunner) -> None:
    result = cli.invoke(app, ["thresholds", "list"])
    assert result.exit_code == 0
    assert "shoes.mileage\twarning_km\t800\tkm\trule_of_thumb" in result.output


def test_set_stores_an_override_that_the_next_build_reads(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["thresholds", "set", "7", "shoes.mileage", "warning_km", "700"])
    assert result.exit_code == 0 and "default 800" in result.output
    listed = cli.invoke(app, ["thresholds", "list", "--athlete", "7"]).output
    assert "shoes.mileage\twarning_km\t800\tkm\trule_of_thumb\t700" in listed
    con = open_lake(tmp_path, read_only=True)
    assert con.execute("select * from rule_threshold_overrides").fetchall() == [
        (7, "shoes.mileage", "warning_km", 700.0)
    ]


def test_set_refuses_an_unknown_parameter_and_names_the_known_ones(cli: CliRunner) -> None:
    result = cli.invoke(app, ["thresholds", "set", "7", "shoes.mileage", "warnin_km", "700"])
    assert result.exit_code == 1
    assert "warning_km, watch_km" in result.output


def test_unset_returns_to_the_default(cli: CliRunner) -> None:
    cli.invoke(app, ["thresholds", "set", "7", "posture.cadence", "watch_spm", "155"])
    assert cli.invoke(app, ["thresholds", "unset", "7", "posture.cadence", "watch_spm"]).exit_code == 0
    again = cli.invoke(app, ["thresholds", "unset", "7", "posture.cadence", "watch_spm"])
    assert again.exit_code == 1 and "no override" in again.output
