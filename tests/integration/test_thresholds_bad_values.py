"""`backstride thresholds set` accepts only values that mean something for the parameter.

Found by trying: `thresholds set ... nan` was stored, and the rule then never fired (every
comparison with NaN is false); so were infinity, negative windows and shares above 1. The
unit column of `sql/seeds/rule_thresholds.csv` says what a value means; a value outside it
gets one clear line and exit code 2, and nothing is stored.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.config import SQL_DIR
from pipeline.thresholds import UNIT_RANGES, ThresholdValueError, check_threshold_value, set_override
from tests.lake_support import open_lake

CATALOGUE = list(csv.DictReader((SQL_DIR / "seeds" / "rule_thresholds.csv").open(newline="")))
UNITS = {(r["rule_id"], r["param"]): r["unit"] for r in CATALOGUE}


def one_of_unit(unit: str) -> tuple[str, str]:
    return next(k for k, u in UNITS.items() if u == unit)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def thresholds(home: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["thresholds", *args], env={"BACKSTRIDE_HOME": str(home)})


def stored(home: Path) -> list[tuple]:
    if not (home / "catalog.sqlite").exists():
        return []
    con = open_lake(home, read_only=True)
    try:
        return con.execute("select * from rule_threshold_overrides order by all").fetchall()
    finally:
        con.close()


REFUSED = [
    ("share", "nan"),
    ("share", "inf"),
    ("share", "-inf"),
    ("share", "1.5"),
    ("share", "-0.1"),
    ("ratio", "0"),
    ("ratio", "-1"),
    ("ratio", "NaN"),
    ("ratio", "1e9"),
    ("days", "0"),
    ("days", "-7"),
    ("days", "7.5"),
    ("days", "1e15"),
    ("minutes", "-1"),
    ("hours", "-48"),
    ("km", "-3"),
    ("km", "Infinity"),
    ("m", "-500"),
    ("runs", "-1"),
    ("runs", "2.5"),
    ("shoes", "0.5"),
    ("sessions/week", "-1"),
    ("bpm", "0"),
    ("bpm", "1000"),
    ("steps/min", "-160"),
]


@pytest.mark.parametrize(("unit", "value"), REFUSED, ids=[f"{u}={v}" for u, v in REFUSED])
def test_a_value_outside_the_parameters_meaning_is_refused_with_exit_2_and_not_stored(
    home: Path, unit: str, value: str
) -> None:
    rule, param = one_of_unit(unit)
    result = thresholds(home, "set", "7", rule, param, "--", value)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {rule}.{param} ")
    assert "finite" in line or UNIT_RANGES[unit][4] in line
    assert stored(home) == []


ACCEPTED = [("share", "0"), ("share", "1"), ("share", "0.3"), ("ratio", "0.5"), ("days", "1"), ("km", "0")]


@pytest.mark.parametrize(("unit", "value"), ACCEPTED, ids=[f"{u}={v}" for u, v in ACCEPTED])
def test_a_value_within_the_parameters_meaning_is_stored(home: Path, unit: str, value: str) -> None:
    rule, param = one_of_unit(unit)
    result = thresholds(home, "set", "7", rule, param, value)
    assert result.exit_code == 0, result.output
    assert stored(home) == [(7, rule, param, float(value))]


def test_every_unit_in_the_catalogue_has_a_range_and_every_default_lies_within_it() -> None:
    for (rule, param), unit in UNITS.items():
        assert unit in UNIT_RANGES, f"{rule}.{param}: unit {unit!r} has no range in pipeline.thresholds.UNIT_RANGES"
    for row in CATALOGUE:
        assert check_threshold_value(row["rule_id"], row["param"], row["unit"], float(row["value"])) == float(
            row["value"]
        )


def test_a_nan_cannot_be_stored_even_below_the_command_line() -> None:
    con = duckdb.connect()
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ThresholdValueError):
            set_override(con, 7, "shoes.mileage", "warning_km", value)


def test_an_unknown_rule_or_parameter_is_named_with_what_exists(home: Path) -> None:
    rule = thresholds(home, "set", "7", "shoes.milage", "warning_km", "700")
    param = thresholds(home, "set", "7", "shoes.mileage", "warnin_km", "700")
    unset = thresholds(home, "unset", "7", "shoes.milage", "warning_km")
    assert rule.exit_code == 1 and "unknown rule 'shoes.milage'" in rule.stderr
    assert param.exit_code == 1 and "warning_km, watch_km" in param.stderr
    assert unset.exit_code == 1 and "unknown rule 'shoes.milage'" in unset.stderr
    assert stored(home) == []
    assert not (home / "catalog.sqlite").exists()  # refusing creates nothing


def test_an_override_left_from_an_older_catalogue_can_still_be_unset(home: Path) -> None:
    from pipeline.config import load_settings
    from pipeline.warehouse import writer

    with writer(load_settings({"BACKSTRIDE_HOME": str(home)})) as con:
        set_override(con, 7, "shoes.retired_rule", "old_param", 1.0)
    result = thresholds(home, "unset", "7", "shoes.retired_rule", "old_param")
    assert result.exit_code == 0, result.output
    assert stored(home) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(sorted(UNITS)), value=st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_is_stored_only_if_it_lies_in_its_units_range(tmp_path_factory, key, value) -> None:
    home = tmp_path_factory.mktemp("thresholds") / "home"
    rule, param = key
    low, low_allowed, high, whole, _ = UNIT_RANGES[UNITS[key]]
    meaningful = (
        math.isfinite(value)
        and (value > low or (low_allowed and value == low))
        and value <= high
        and (not whole or value.is_integer())
    )
    result = thresholds(home, "set", "7", rule, param, "--", repr(value))
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == (0 if meaningful else 2), result.output
    assert stored(home) == ([(7, rule, param, value)] if meaningful else [])
