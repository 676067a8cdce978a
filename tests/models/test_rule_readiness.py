"""Window rules stay silent until the athlete's history covers their window; rule_readiness says so.

backstride sees nothing before an athlete's first activity, so a comparison whose window starts
before it (a spike against "the last 30 days", a week against "the previous 4") is not judged.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TrainingLog, day

SPIKE = "distance.single_run_spike"
CHANGE = "distance.weekly_change"
MONOTONY = "distance.monotony"
RETURN = "injury.return_after_break"
ROTATION = "shoes.rotation"
SURFACE = "surface.no_soft_surface"
NO_STRENGTH = "strength.no_strength_14d"
LOW_STRENGTH = "strength.low_frequency"
WINDOW_RULES = {SPIKE, CHANGE, MONOTONY, RETURN, ROTATION, SURFACE, NO_STRENGTH, LOW_STRENGTH}


def readiness(log: TrainingLog, rule_id: str) -> dict[dt.date, dict]:
    rows = log.rows("select * from rule_readiness where rule_id = ? order by week_start", [rule_id])
    return {r["week_start"]: r for r in rows}


def test_the_first_week_gets_no_spike_against_a_window_before_the_history(log: TrainingLog) -> None:
    log.run(day(0, 0), 5.0)
    log.run(day(0, 6), 12.0)  # 2.4 x the only earlier run, but the 30 days before it are unseen
    log.build()
    assert log.flags(SPIKE) == []
    week_0 = readiness(log, SPIKE)[day(0)]
    assert (week_0["ready"], week_0["history_days"], week_0["needed_days"]) == (False, 7, 37)


@pytest.mark.parametrize(("spike_week", "fires"), [(4, False), (5, True)])
def test_the_spike_is_judged_from_the_first_week_whose_monday_has_30_days_behind_it(
    log: TrainingLog, spike_week: int, fires: bool
) -> None:
    for week in range(spike_week):
        log.run(day(week, 0), 10.0)
    log.run(day(spike_week, 0), 15.0)  # week 4's Monday is day 28, week 5's day 35
    log.build()
    assert (log.flag_in_week(SPIKE, spike_week) is not None) is fires
    assert readiness(log, SPIKE)[day(spike_week)]["ready"] is fires


def test_weekly_change_waits_until_the_history_covers_the_four_weeks_before(log: TrainingLog) -> None:
    log.override(CHANGE, "acwr_info", 99.0)
    for week, km in enumerate([20.0, 20.0, 20.0, 20.0, 40.0]):
        for weekday in (1, 3, 5):  # the first run is a Tuesday: week 0's Monday is unseen
            log.run(day(week, weekday), km / 3)
    log.build()
    assert log.flags(CHANGE) == []
    week_4 = readiness(log, CHANGE)[day(4)]
    assert (week_4["ready"], week_4["history_days"], week_4["needed_days"]) == (False, 34, 35)


def test_monotony_waits_for_a_week_wholly_inside_the_history(log: TrainingLog) -> None:
    for week in (0, 1):
        for weekday in range(1, 7) if week == 0 else range(6):
            log.run(day(week, weekday), 8.0)  # six equal days and one rest day: monotony 2.27
    log.build()
    assert [f["week_start"] for f in log.flags(MONOTONY)] == [day(1)]  # week 0 began on a Tuesday
    assert [r["ready"] for r in readiness(log, MONOTONY).values()] == [False, True]


def test_a_return_whose_pre_break_window_starts_before_the_history_is_not_judged(log: TrainingLog) -> None:
    for weekday in (0, 2, 4):
        log.run(day(0, weekday), 6.0)
    log.run(day(3, 0), 6.0)  # 16 days without a run, but 30 days before the break are unseen
    log.run(day(3, 2), 6.0)
    log.build()
    assert log.rows("select signal from injury_signals") == [{"signal": "return_after_break"}]
    assert log.flags(RETURN) == []
    assert readiness(log, RETURN)[day(3)]["ready"] is False


def test_rule_readiness_has_a_row_per_athlete_week_and_window_rule(log: TrainingLog) -> None:
    log.run(day(0, 2), 8.0)
    log.run(day(2, 2), 8.0)
    log.build()
    rows = log.rows("select * from rule_readiness order by week_start, rule_id")
    assert {(r["week_start"], r["rule_id"]) for r in rows} == {
        (day(w), rule) for w in range(3) for rule in WINDOW_RULES
    }
    assert {r["rule_id"]: r["factor"] for r in rows} == {
        SPIKE: "distance",
        CHANGE: "distance",
        MONOTONY: "distance",
        RETURN: "injury",
        ROTATION: "shoes",
        SURFACE: "surface",
        NO_STRENGTH: "strength",
        LOW_STRENGTH: "strength",
    }
    assert [r["history_days"] for r in rows if r["rule_id"] == SPIKE] == [5, 12, 19]  # from Wednesday, both counted
    columns = {
        r["column_name"]: r["data_type"]
        for r in log.rows(
            "select column_name, data_type from information_schema.columns where table_name = 'rule_readiness'"
        )
    }
    assert columns == {
        "athlete_id": "BIGINT",
        "week_start": "DATE",
        "rule_id": "VARCHAR",
        "factor": "VARCHAR",
        "needed_days": "INTEGER",
        "history_days": "INTEGER",
        "ready": "BOOLEAN",
        "ready_from": "DATE",
    }


def test_needed_days_come_from_the_rule_parameters(log: TrainingLog) -> None:
    log.run(day(0, 0), 8.0)
    log.override(SPIKE, "lookback_days", 14)
    log.override(CHANGE, "baseline_days", 14)
    log.override(MONOTONY, "window_days", 14)
    log.override(RETURN, "prebreak_days", 10)
    log.override(RETURN, "gap_days", 7)
    log.override(ROTATION, "window_days", 14)
    log.override(SURFACE, "window_days", 10)  # whole weeks: 2
    log.override(NO_STRENGTH, "window_days", 7)
    log.override(LOW_STRENGTH, "window_days", 21)
    log.build()
    needed = {r["rule_id"]: r["needed_days"] for r in log.rows("select rule_id, needed_days from rule_readiness")}
    assert needed == {
        SPIKE: 14 + 7,
        CHANGE: 14 + 7,
        MONOTONY: 14,
        RETURN: 10 + 1 + 7 + 7,
        ROTATION: 14,
        SURFACE: 14,
        NO_STRENGTH: 7,
        LOW_STRENGTH: 21,
    }


def test_ready_from_is_the_first_week_the_rule_is_judged_even_beyond_the_data(log: TrainingLog) -> None:
    log.run(day(0, 3), 8.0)  # a Thursday: 4 days of history in week 0
    log.build()
    ready_from = {r["rule_id"]: r["ready_from"] for r in log.rows("select rule_id, ready_from from rule_readiness")}
    # spike: 37 days, both counted, from Thursday of week 0 is Thursday of week 5
    assert ready_from == {
        SPIKE: day(5),
        CHANGE: day(5),
        MONOTONY: day(1),
        RETURN: day(7),
        ROTATION: day(12),
        SURFACE: day(4),
        NO_STRENGTH: day(2),
        LOW_STRENGTH: day(4),
    }


def test_an_absence_rule_waits_until_whole_days_of_history_cover_its_window(log: TrainingLog) -> None:
    for week in range(3):
        log.run(day(week, 2), 8.0)  # from a Wednesday: week 1's 14 days begin two days before it
    log.build()
    assert [f["week_start"] for f in log.flags(NO_STRENGTH)] == [day(2)]
    assert [r["ready"] for r in readiness(log, NO_STRENGTH).values()] == [False, False, True]
