"""Shoe rules: mileage, age, rotation, runs without a running shoe; and the shoe_status mart."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TrainingLog, day

MILEAGE = "shoes.mileage"
AGE = "shoes.age"
ROTATION = "shoes.rotation"
UNKNOWN = "shoes.unknown_gear"


@pytest.mark.parametrize(
    ("shoe_km", "severity"), [(450.0, None), (599.9, None), (600.0, "watch"), (799.0, "watch"), (800.0, "warning")]
)
def test_shoe_mileage_watch_at_600_km_and_warning_at_800_km(
    log: TrainingLog, shoe_km: float, severity: str | None
) -> None:
    log.shoe("g1", shoe_km, "Old faithful")
    log.run(day(0, 2), 8.0, gear_id="g1")
    log.build()
    flag = log.flag_in_week(MILEAGE, 0)
    assert (flag["severity"] if flag else None) == severity


def test_shoe_mileage_counts_the_distance_the_shoe_had_that_week(log: TrainingLog) -> None:
    log.shoe("g1", 610.0, "Old faithful")  # Strava's total today
    log.run(day(0, 2), 10.0, gear_id="g1")  # at the end of week 0 the shoe had 600 km
    log.run(day(1, 2), 10.0, gear_id="g1")
    log.run(day(1, 4), 8.0, gear_id="g2")
    log.build()
    assert [(f["week_start"], f["metrics"]["distance_km"]) for f in log.flags(MILEAGE)] == [
        (day(0), 600.0),
        (day(1), 610.0),
    ]
    assert "Old faithful" in log.flags(MILEAGE)[0]["message"]


def test_shoe_status_reports_each_shoe_as_of_the_reference_date(log: TrainingLog) -> None:
    log.shoe("g1", 820.0, "Old faithful")
    log.shoe("g2", 100.0, "Racer", retired=True)
    log.run(day(0, 2), 10.0, gear_id="g1")
    log.run(day(10, 2), 10.0, gear_id="g1")
    log.run(day(1, 2), 5.0, gear_id="g2")
    log.build(as_of=day(12, 2))
    shoes = {r["gear_id"]: r for r in log.rows("select * from shoe_status")}
    assert shoes["g1"]["status"] == "warning" and shoes["g1"]["distance_km"] == 820.0
    assert shoes["g1"]["first_run_date"] == day(0, 2) and shoes["g1"]["age_days"] == 84
    assert shoes["g1"]["runs_12w"] == 1  # the run of week 0 is more than 84 days before as_of
    assert shoes["g2"]["status"] == "retired"
    assert (shoes["g1"]["watch_km"], shoes["g1"]["warning_km"]) == (600.0, 800.0)


def _old_shoe_then_weekly_runs(log: TrainingLog, first_run: dt.date, runs_per_week: int) -> None:
    log.shoe("g1", 300.0)
    log.run(first_run, 5.0, gear_id="g1")
    for week in range(52, 64):
        for weekday in range(runs_per_week):
            log.run(day(week, weekday * 2), 6.0, gear_id="g1")


@pytest.mark.parametrize(
    ("days_before_last_sunday", "severity"), [(365, None), (366, "watch"), (730, "watch"), (731, "warning")]
)
def test_shoe_age_watch_after_a_year_and_warning_after_two(
    log: TrainingLog, days_before_last_sunday: int, severity: str | None
) -> None:
    last_sunday = day(63, 6)
    _old_shoe_then_weekly_runs(log, last_sunday - dt.timedelta(days=days_before_last_sunday), runs_per_week=3)
    log.build()
    flag = log.flag_in_week(AGE, 63)
    assert (flag["severity"] if flag else None) == severity


def test_shoe_age_is_only_for_runners_with_three_runs_a_week(log: TrainingLog) -> None:
    _old_shoe_then_weekly_runs(log, day(0, 0), runs_per_week=2)
    log.build()
    assert log.flags(AGE) == []


def test_rotation_info_when_twelve_weeks_of_runs_used_one_pair(log: TrainingLog) -> None:
    log.history_from(day(0))  # from the Monday of week 0: week 11's 84 days are all history
    for week in range(13):
        log.run(day(week, 2), 8.0, gear_id="g1")
    log.build()
    flags = log.flags(ROTATION)
    assert [f["week_start"] for f in flags] == [day(11), day(12)]  # once 12 weeks of history exist
    assert {f["severity"] for f in flags} == {"info"} and flags[0]["evidence"] == "limited"
    assert 'one pair ("g1")' in flags[0]["message"]


@pytest.mark.parametrize(("second_pair_week", "fires"), [(9, False), (1, False), (0, True)])
def test_rotation_counts_pairs_over_the_twelve_weeks_ending_this_sunday(
    log: TrainingLog, second_pair_week: int, fires: bool
) -> None:
    log.run(day(second_pair_week, 1), 8.0, gear_id="g2")
    log.run(day(12, 2), 8.0, gear_id="g1")  # week 12's window is weeks 1..12
    log.build()
    assert (log.flag_in_week(ROTATION, 12) is not None) is fires


@pytest.mark.parametrize(
    ("gear_ids", "fires"),
    [(["g1", "g1", "g1", "g1"], False), ([None, "g1", "g1", "g1"], False), ([None, "b7", "g1", "g1"], True)],
    ids=["all-shoes", "exactly-25pct", "half-without-shoe"],
)
def test_unknown_gear_info_when_over_a_quarter_of_runs_have_no_running_shoe(
    log: TrainingLog, gear_ids: list[str | None], fires: bool
) -> None:
    log.shoe("b7", 1000.0, "Bike", gear_type="bike")
    for weekday, gear_id in enumerate(gear_ids):
        log.run(day(0, weekday), 6.0, gear_id=gear_id)
    log.build()
    flag = log.flag_in_week(UNKNOWN, 0)
    assert (flag is not None) is fires
    if fires:
        assert flag["metrics"]["runs_without_shoe"] == 2 and flag["severity"] == "info"


def test_a_retired_shoe_gets_no_mileage_warning_and_is_shown_as_retired(log: TrainingLog) -> None:
    log.shoe("g1", 900.0, "Old faithful", retired=True)
    log.shoe("g2", 850.0, "Still in use")
    log.run(day(0, 2), 8.0, gear_id="g1")
    log.run(day(1, 2), 8.0, gear_id="g1")
    log.run(day(1, 4), 8.0, gear_id="g2")
    log.build()
    assert [(f["week_start"], f["metrics"]["gear_id"]) for f in log.flags(MILEAGE)] == [(day(1), "g2")]
    shoes = {r["gear_id"]: r for r in log.rows("select gear_id, retired, status from shoe_status")}
    assert shoes["g1"] == {"gear_id": "g1", "retired": True, "status": "retired"}
    assert shoes["g2"]["retired"] is False and shoes["g2"]["status"] == "warning"


def test_a_retired_shoe_gets_no_age_warning(log: TrainingLog) -> None:
    _old_shoe_then_weekly_runs(log, day(63, 6) - dt.timedelta(days=800), runs_per_week=3)
    log.gear[0]["retired"] = True
    log.build()
    assert log.flags(AGE) == []


def _runs_in_a_missing_shoe(log: TrainingLog) -> None:
    """Strava answered 404 for g9: three runs a week in it for over a year, 700 km logged."""
    log.missing_shoe("g9")
    log.run(day(0, 0), 100.0, gear_id="g9")
    for week in range(52, 64):
        for weekday in (0, 2, 4):
            log.run(day(week, weekday), 6.0, gear_id="g9")
    log.run(day(63, 6), 384.0, gear_id="g9")


def test_a_missing_shoe_gets_no_mileage_or_age_warning(log: TrainingLog) -> None:
    _runs_in_a_missing_shoe(log)
    log.build()
    assert log.flags(MILEAGE) == [] and log.flags(AGE) == []


def test_a_missing_shoe_is_an_unknown_shoe_in_shoe_status(log: TrainingLog) -> None:
    _runs_in_a_missing_shoe(log)
    log.build()
    [shoe] = log.rows("select gear_id, name, missing, retired, status, runs from shoe_status")
    assert shoe == {
        "gear_id": "g9",
        "name": "unknown shoe",
        "missing": True,
        "retired": False,
        "status": "unknown",
        "runs": 38,
    }


def test_runs_in_a_missing_shoe_still_count_and_messages_call_it_unknown_shoe(log: TrainingLog) -> None:
    _runs_in_a_missing_shoe(log)
    log.build()
    [week_63] = log.rows("select runs, distance_km from weekly_load where week_start = ?", [day(63)])
    assert week_63 == {"runs": 4, "distance_km": 402.0}
    assert log.flag_in_week("distance.single_run_spike", 63) is not None
    assert 'one pair ("unknown shoe")' in log.flag_in_week(ROTATION, 63)["message"]
    assert log.flags(UNKNOWN) == []  # a missing gear is still a shoe


def test_models_build_before_the_gear_table_has_a_missing_column(log: TrainingLog) -> None:
    log.con.execute("alter table gear drop column missing")
    log.shoe("g1", 700.0, "Old faithful")
    del log.gear[0]["missing"]
    log.run(day(0, 2), 8.0, gear_id="g1")
    log.build()
    assert log.rows("select missing, status from shoe_status") == [{"missing": False, "status": "watch"}]
    assert [f["severity"] for f in log.flags(MILEAGE)] == ["watch"]
