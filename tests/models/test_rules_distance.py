"""Distance rules: single-run spike, weekly change (info only), recovery after a big run, monotony."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TrainingLog, day

SPIKE = "distance.single_run_spike"
CHANGE = "distance.weekly_change"
RECOVERY = "distance.recovery_after_big_run"
MONOTONY = "distance.monotony"


@pytest.mark.parametrize(
    ("km", "severity"),
    [(10.0, None), (11.0, None), (11.1, "watch"), (13.0, "watch"), (13.1, "warning"), (25.0, "warning")],
    ids=["same", "exactly-10pct", "over-10pct", "exactly-30pct", "over-30pct", "more-than-double"],
)
def test_single_run_spike_grades_the_run_against_the_longest_of_the_previous_30_days(
    log: TrainingLog, km: float, severity: str | None
) -> None:
    log.history_from(day(-4))  # the 30 days before week 1 lie inside the history
    log.run(day(0, 1), 10.0)
    log.run(day(0, 3), 6.0)
    log.run(day(1, 2), km)
    log.build()
    flag = log.flag_in_week(SPIKE, 1)
    assert (flag["severity"] if flag else None) == severity


def test_single_run_spike_message_gives_the_runners_numbers_and_the_study(log: TrainingLog) -> None:
    log.history_from(day(-4))
    log.run(day(0, 1), 10.0)
    log.run(day(1, 2), 13.5)
    log.build()
    flag = log.flag_in_week(SPIKE, 1)
    assert "13.5 km" in flag["message"] and "35% longer" in flag["message"] and "(10.0 km)" in flag["message"]
    assert "5,200 runners" in flag["message"]
    assert flag["metrics"]["ratio"] == pytest.approx(1.35)
    assert flag["evidence"] == "moderate" and flag["factor"] == "distance"


def test_single_run_spike_forgets_runs_older_than_30_days(log: TrainingLog) -> None:
    long_ago = dt.datetime.combine(day(0, 0), dt.time(7))
    log.history_from(day(-1))
    log.run(long_ago, 20.0)
    log.run(long_ago + dt.timedelta(days=10), 10.0)
    log.run(long_ago + dt.timedelta(days=31), 12.0)  # the 20 km is now 31 days back
    log.build()
    assert [f["metrics"]["previous_longest_km"] for f in log.flags(SPIKE)] == [10.0]


def test_single_run_spike_threshold_can_be_overridden_per_athlete(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0)
    log.run(day(1, 2), 12.0)
    log.override(SPIKE, "watch_ratio", 1.25)
    log.build()
    assert log.flags(SPIKE) == []


def _weeks_of(log: TrainingLog, kms: list[float]) -> None:
    for week, km in enumerate(kms):
        for weekday in (1, 3, 5):
            log.run(day(week, weekday), km / 3)


@pytest.mark.parametrize(("last_week_km", "fires"), [(24.0, False), (30.0, False), (31.5, True)])
def test_weekly_change_compares_the_week_with_the_average_of_the_previous_four(
    log: TrainingLog, last_week_km: float, fires: bool
) -> None:
    log.override(CHANGE, "acwr_info", 99.0)  # isolate the change criterion
    log.history_from(day(0))  # the history covers the 4 weeks before week 4
    _weeks_of(log, [20.0, 20.0, 20.0, 20.0, last_week_km])
    log.build()
    assert (log.flag_in_week(CHANGE, 4) is not None) is fires


def test_weekly_change_is_information_never_a_warning(log: TrainingLog) -> None:
    log.history_from(day(0))
    _weeks_of(log, [20.0, 20.0, 20.0, 20.0, 80.0])
    log.build()
    flags = log.flags(CHANGE)
    assert flags and {f["severity"] for f in flags} == {"info"}
    assert "For information only" in flags[-1]["message"]


def test_weekly_change_needs_four_previous_weeks(log: TrainingLog) -> None:
    log.override(CHANGE, "acwr_info", 99.0)
    _weeks_of(log, [10.0, 10.0, 10.0, 40.0])
    log.build()
    assert log.flags(CHANGE) == []


@pytest.mark.parametrize(("hours_later", "fires"), [(24, True), (47, True), (48, False), (72, False)])
def test_recovery_flags_a_run_less_than_48_hours_after_a_big_run(
    log: TrainingLog, hours_later: int, fires: bool
) -> None:
    log.history_from(day(-4))  # the 28 days before the big run lie inside the history
    log.run(day(0, 1), 10.0)
    big = dt.datetime.combine(day(0, 5), dt.time(8))
    log.run(big, 16.0)
    log.run(big + dt.timedelta(hours=hours_later), 5.0)
    log.build()
    assert bool(log.flags(RECOVERY)) is fires


def test_recovery_counts_90_minute_runs_as_big_even_when_not_the_longest(log: TrainingLog) -> None:
    log.run(day(0, 0), 20.0)
    slow = dt.datetime.combine(day(0, 3), dt.time(8))
    log.run(slow, 12.0, minutes=90)
    log.run(slow + dt.timedelta(hours=20), 5.0)
    log.build()
    flags = log.flags(RECOVERY)
    assert [f["metrics"]["hours_to_next_run"] for f in flags] == [20.0]
    assert flags[0]["severity"] == "watch" and flags[0]["evidence"] == "rule_of_thumb"


def test_recovery_ignores_an_ordinary_run_followed_the_next_day(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0)
    log.run(day(0, 2), 8.0)
    log.run(day(0, 3), 8.0)
    log.build()
    assert log.flags(RECOVERY) == []


def test_recovery_lands_in_the_week_of_the_run_that_came_too_soon(log: TrainingLog) -> None:
    log.history_from(day(-4))
    log.run(day(0, 1), 10.0)
    sunday = dt.datetime.combine(day(0, 6), dt.time(9))
    log.run(sunday, 18.0)
    log.run(sunday + dt.timedelta(hours=24), 6.0)
    log.build()
    assert [f["week_start"] for f in log.flags(RECOVERY)] == [day(1)]


def test_recovery_does_not_call_a_run_big_before_the_history_covers_its_28_days(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0)
    big = dt.datetime.combine(day(0, 5), dt.time(8))
    log.run(big, 16.0)  # longer than the only earlier run, but the 28 days before it are unseen
    log.run(big + dt.timedelta(hours=24), 5.0)
    slow = dt.datetime.combine(day(1, 3), dt.time(8))
    log.run(slow, 12.0, minutes=95)  # 90 minutes or more is big whatever the history
    log.run(slow + dt.timedelta(hours=20), 5.0)
    log.build()
    assert [r["distance_km"] for r in log.rows("select distance_km from recovery order by day")] == [12.0]
    assert [f["week_start"] for f in log.flags(RECOVERY)] == [day(1)]


def test_monotony_flags_a_week_of_near_identical_days(log: TrainingLog) -> None:
    for weekday in range(6):
        log.run(day(0, weekday), 8.0)
    log.build()  # six equal days and one rest day: monotony 6 / sqrt(7) = 2.27
    flag = log.flag_in_week(MONOTONY, 0)
    assert flag["severity"] == "info" and flag["metrics"]["monotony"] == pytest.approx(2.268, abs=1e-3)


@pytest.mark.parametrize(("threshold", "fires"), [(2.26, True), (2.27, False)])
def test_monotony_threshold_boundary(log: TrainingLog, threshold: float, fires: bool) -> None:
    for weekday in range(6):
        log.run(day(0, weekday), 8.0)
    log.override(MONOTONY, "monotony_info", threshold)
    log.build()
    assert (log.flag_in_week(MONOTONY, 0) is not None) is fires


def test_monotony_stays_quiet_with_easy_and_rest_days(log: TrainingLog) -> None:
    for weekday, km in ((1, 8.0), (3, 5.0), (6, 15.0)):
        log.run(day(0, weekday), km)
    log.build()
    assert log.flags(MONOTONY) == []
