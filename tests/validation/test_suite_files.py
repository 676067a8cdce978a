"""A suite file is checked field by field when it is read: a malformed one stops validation with
an error naming the file and the field, and named sets in it are resolved."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipeline.sport_types import run_sport_types
from pipeline.validation import BatchValidationError, load_suite, validate_frames
from tests.validation.conftest import ATHLETE, typed_frame, write_suites

Suite = dict[str, Any]


def expectation(data: Suite, name: str) -> dict[str, Any]:
    return next(item for item in data["expectations"] if item["name"] == name)


def edited_suite(tmp_path: Path, table: str, edit: Callable[[Suite], object]) -> Path:
    """The shipped suites in `tmp_path`, with `edit` applied to `table`'s data; returns its path."""
    suites = write_suites(tmp_path / "suites")
    path = suites / f"{table}.json"
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    return path


MALFORMED: dict[str, tuple[Callable[[Suite], object], str]] = {
    "missing field": (
        lambda d: expectation(d, "distance_not_null").pop("kwargs"),
        r"expectations\[\d+\] \('distance_not_null'\)\.kwargs: Field required",
    ),
    "unknown level": (
        lambda d: expectation(d, "distance_not_null").update(level="rows"),
        r"expectations\[\d+\] \('distance_not_null'\)\.level: Input should be 'schema', 'batch' or 'row'",
    ),
    "type that is no expectation": (
        lambda d: expectation(d, "distance_not_null").update(type="column_values_to_not_be_null"),
        r"expectations\[\d+\] \('distance_not_null'\)\.type: .*not a Great Expectations expectation type",
    ),
    "misspelt field": (
        lambda d: expectation(d, "distance_not_null").update(kwarg={"column": "distance"}),
        r"expectations\[\d+\] \('distance_not_null'\)\.kwarg: Extra inputs are not permitted",
    ),
    "missing key columns": (lambda d: d.pop("key_columns"), r"key_columns: Field required"),
    "repeated expectation name": (
        lambda d: expectation(d, "moving_time_not_null").update(name="distance_not_null"),
        r"expectations: .*must be unique; repeated: distance_not_null",
    ),
    "unknown named set in SQL": (
        lambda d: d["derived_columns"]["run_distance_m"].update(sql="case when sport_type in $foot_sports then 1 end"),
        r"derived_columns\.run_distance_m\.sql: .*unknown named set 'foot_sports' \(known: run_sport_types\)",
    ),
    "unknown named set in kwargs": (
        lambda d: expectation(d, "sport_type_known")["kwargs"].update(value_set={"$ref": "strava_sports"}),
        r"expectations\[\d+\] \('sport_type_known'\)\.kwargs: .*unknown named set 'strava_sports'",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_malformed_suite_fails_naming_the_file_and_the_field(tmp_path: Path, case: str) -> None:
    edit, field = MALFORMED[case]
    path = edited_suite(tmp_path, "activities", edit)
    with pytest.raises(
        BatchValidationError, match=rf"suite 'activities': {re.escape(str(path))} is malformed: {field}"
    ):
        load_suite("activities", path.parent)


def test_a_suite_that_is_not_json_fails_naming_the_file(tmp_path: Path) -> None:
    suites = write_suites(tmp_path / "suites")
    (suites / "gear.json").write_text('{"name": "gear",')
    with pytest.raises(
        BatchValidationError, match=rf"suite 'gear': {re.escape(str(suites / 'gear.json'))} is not valid JSON"
    ):
        load_suite("gear", suites)


def test_an_expectation_type_unknown_to_great_expectations_fails_naming_the_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    comfy = {"name": "shoe_is_comfy", "level": "row", "type": "expect_shoe_to_be_comfy", "kwargs": {"column": "name"}}
    path = edited_suite(tmp_path, "gear", lambda d: d["expectations"].append(comfy))
    frame = typed_frame(con, "gear", [{"gear_id": "g1", "athlete_id": ATHLETE}])
    with pytest.raises(
        BatchValidationError, match=rf"expectation shoe_is_comfy .* in {re.escape(str(path))} is invalid"
    ):
        validate_frames(con, {"gear": frame}, "batch-1", suites_dir=path.parent)


def test_a_named_set_in_kwargs_becomes_its_list(tmp_path: Path) -> None:
    runs_only = {"column": "sport_type", "value_set": {"$ref": "run_sport_types"}}
    path = edited_suite(tmp_path, "activities", lambda d: expectation(d, "sport_type_known").update(kwargs=runs_only))
    (check,) = [c for c in load_suite("activities", path.parent).checks if c.name == "sport_type_known"]
    assert check.kwargs == {"column": "sport_type", "value_set": list(run_sport_types())}


def test_a_derived_column_may_be_written_as_its_sql_alone(tmp_path: Path) -> None:
    path = edited_suite(tmp_path, "gear", lambda d: d["derived_columns"].update(twice="distance * 2"))
    assert load_suite("gear", path.parent).derived_columns["twice"] == "distance * 2"
