"""Injury rules: pain words in notes, returns after a break; and the injury_signals mart."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import TrainingLog, day

PAIN = "injury.pain_notes"
RETURN = "injury.return_after_break"


@pytest.mark.parametrize(
    ("name", "description", "fires"),
    [
        ("Easy 8k", "lower back a bit sore after", True),
        ("Back pain again", "", True),
        ("Tempo", "felt a twinge in the hamstring", True),
        ("Physio said rest", "", True),
        ("Out and back 10k", "back home for breakfast", False),  # 'back' alone is not pain
        ("Easy 8k", "lovely morning", False),
        ("Painted Hills loop", "", False),  # whole words only
    ],
)
def test_pain_notes_warning_on_pain_words_in_name_or_description(
    log: TrainingLog, name: str, description: str, fires: bool
) -> None:
    log.run(day(0, 2), 8.0, name=name, description=description)
    log.build()
    flag = log.flag_in_week(PAIN, 0)
    assert (flag is not None) is fires
    if fires:
        assert flag["severity"] == "warning" and flag["evidence"] == "strong"
        assert "doctor or physiotherapist" in flag["message"]


def test_pain_notes_read_every_sport(log: TrainingLog) -> None:
    log.activity(day(0, 3), 0.0, 40, "Yoga", spm=None, gear_id=None, description="stiff back")
    log.run(day(0, 5), 5.0)
    log.build()
    assert log.flag_in_week(PAIN, 0)["metrics"]["words"] == ["stiff"]


def test_pain_notes_stay_for_the_14_days_ending_each_sunday(log: TrainingLog) -> None:
    log.run(day(0, 6), 8.0, description="sore calf")
    for week in range(1, 4):
        log.run(day(week, 2), 8.0)
    log.build()
    assert [f["week_start"] for f in log.flags(PAIN)] == [day(0), day(1)]


def test_pain_notes_message_quotes_the_activity(log: TrainingLog) -> None:
    log.run(day(0, 2), 8.0, name="Sunday shuffle", description="Back pain after 5k, stopped")
    log.build()
    message = log.flag_in_week(PAIN, 0)["message"]
    assert '"Sunday shuffle"' in message and '"back pain"' in message


def _break(log: TrainingLog, gap_days: int) -> None:
    """Runs every other day for 4 weeks (longest 12 km), `gap_days` whole days off, then runs again.
    The history starts 4 weeks earlier, so the break and the 30 days before it are inside it."""
    log.history_from(day(-4))
    for week in range(4):
        for weekday in (0, 2, 4):
            log.run(day(week, weekday), 12.0 if weekday == 4 else 6.0)
    last = day(3, 4)
    back = last + dt.timedelta(days=gap_days + 1)
    log.run(back, 5.0)
    log.run(back + dt.timedelta(days=2), 7.0)


@pytest.mark.parametrize(("gap_days", "fires"), [(10, False), (13, False), (14, True), (40, True)])
def test_return_after_a_break_of_14_days_or_more_is_a_watch(log: TrainingLog, gap_days: int, fires: bool) -> None:
    _break(log, gap_days)
    log.build()
    assert bool(log.flags(RETURN)) is fires


def test_return_after_break_lasts_the_four_weeks_after_the_first_run_back(log: TrainingLog) -> None:
    _break(log, 14)  # back on Saturday of week 5
    for week in range(6, 12):
        log.run(day(week, 1), 6.0)
    log.build()
    assert [f["week_start"] for f in log.flags(RETURN)] == [day(5), day(6), day(7), day(8), day(9)]


def test_return_after_break_compares_with_the_longest_run_before_it(log: TrainingLog) -> None:
    _break(log, 20)
    log.build()
    flag = log.flags(RETURN)[-1]
    assert flag["metrics"]["prebreak_longest_km"] == 12.0
    assert flag["metrics"]["longest_since_km"] == 7.0
    assert flag["metrics"]["break_days"] == 20
    assert "20 days without a run" in flag["message"]


def test_injury_signals_lists_pain_notes_and_returns(log: TrainingLog) -> None:
    _break(log, 15)
    log.run(day(8, 1), 6.0, description="knee hurts")
    log.build()
    signals = log.rows("select signal, break_days, pain_words from injury_signals order by day")
    assert [(s["signal"], s["break_days"]) for s in signals] == [("return_after_break", 15), ("pain_note", None)]
    assert signals[1]["pain_words"] == ["hurts"]


def test_pain_notes_name_the_most_telling_note_and_count_the_others(log: TrainingLog) -> None:
    log.run(day(0, 1), 8.0, name="Tempo", description="back pain and a twinge")
    log.run(day(0, 4), 6.0, name="Easy", description="still sore")
    log.build()
    message = log.flag_in_week(PAIN, 0)["message"]
    assert '"Tempo"' in message and '"back pain", "twinge"' in message
    assert "and 1 more of your notes in the last 2 weeks" in message
