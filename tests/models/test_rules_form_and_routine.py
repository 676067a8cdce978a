"""Posture, surface, preparation and strength rules."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from conftest import AS_OF, TrainingLog, day

from pipeline.models import SQL_DIR, build_models

CADENCE = "posture.cadence"
FADING = "posture.form_fading"
SURFACE = "surface.no_soft_surface"
WARMUP = "preparation.warmup"
NO_STRENGTH = "strength.no_strength_14d"
LOW_STRENGTH = "strength.low_frequency"


@pytest.mark.parametrize(("spm", "fires"), [(150.0, True), (159.0, True), (160.0, False), (172.0, False)])
def test_cadence_watch_below_160_steps_per_minute(log: TrainingLog, spm: float, fires: bool) -> None:
    log.run(day(0, 1), 8.0, spm=spm)
    log.run(day(0, 3), 8.0, spm=spm)
    log.build()
    assert (log.flag_in_week(CADENCE, 0) is not None) is fires


def test_cadence_reads_strava_strides_as_half_the_steps(log: TrainingLog) -> None:
    log.run(day(0, 1), 8.0, spm=152.0)  # stored as average_cadence 76 strides per minute
    log.build()
    flag = log.flag_in_week(CADENCE, 0)
    assert flag["metrics"]["steps_per_min"] == 152.0
    assert "152 steps per minute" in flag["message"] and "160-167" in flag["message"]


def test_cadence_is_weighted_by_moving_time(log: TrainingLog) -> None:
    log.run(day(0, 1), 3.0, spm=150.0)
    log.run(day(0, 3), 15.0, spm=170.0)
    log.build()
    assert log.flag_in_week(CADENCE, 0) is None


@pytest.mark.parametrize(
    ("minutes", "spm", "pace", "fires"),
    [
        (50, (180.0, 174.0), (300.0, 320.0), False),  # 3.3% fewer steps, 6.7% slower
        (50, (180.0, 172.8), (300.0, 300.0), True),  # exactly 4% fewer steps
        (50, (180.0, 180.0), (300.0, 324.0), True),  # exactly 8% slower
        (45, (180.0, 160.0), (300.0, 300.0), True),  # exactly 45 minutes
        (44, (180.0, 160.0), (300.0, 300.0), False),  # too short to judge
    ],
)
def test_form_fading_on_long_runs_compares_last_third_with_first(
    log: TrainingLog, minutes: int, spm: tuple[float, float], pace: tuple[float, float], fires: bool
) -> None:
    run_id = log.run(day(0, 2), 10.0, minutes=minutes)
    log.thirds(run_id, spm=spm, pace=pace)
    log.build()
    assert (log.flag_in_week(FADING, 0) is not None) is fires


def test_form_fading_message_names_what_faded(log: TrainingLog) -> None:
    run_id = log.run(day(0, 6), 16.0, minutes=90)
    log.thirds(run_id, spm=(176.0, 164.0), pace=(330.0, 335.0))
    log.build()
    flag = log.flag_in_week(FADING, 0)
    assert "90-minute run" in flag["message"] and "7% fewer steps per minute" in flag["message"]
    assert "back straight" in flag["message"]


def test_form_fatigue_reports_heart_rate_drift(log: TrainingLog) -> None:
    run_id = log.run(day(0, 6), 12.0, minutes=60)
    log.thirds(run_id, hr=(140.0, 154.0))
    log.build()
    assert log.rows("select hr_drift from form_fatigue") == [{"hr_drift": pytest.approx(0.1)}]


def _road_weeks(log: TrainingLog, weeks: int) -> None:
    """Two road runs a week, from the Monday of week 0 (so week 3's 4-week window is all history)."""
    for week in range(weeks):
        log.run(day(week, 0), 8.0, name="Road 8k")
        log.run(day(week, 3), 8.0, name="Road 8k")


def test_surface_info_after_four_weeks_on_roads_only(log: TrainingLog) -> None:
    _road_weeks(log, 4)
    log.build()
    flag = log.flag_in_week(SURFACE, 3)
    assert flag["severity"] == "info" and flag["metrics"]["runs"] == 8


@pytest.mark.parametrize(
    ("extra", "fires"),
    [
        ({"sport_type": "TrailRun", "name": "Hills"}, False),
        ({"name": "Grass strides"}, False),
        ({"name": "Easy", "description": "laps of the track"}, False),
        ({"name": "Grassington 10k road race"}, True),  # whole words only
    ],
)
def test_surface_soft_sessions_by_sport_type_or_word(log: TrainingLog, extra: dict, fires: bool) -> None:
    _road_weeks(log, 4)
    log.run(day(3, 6), 6.0, **extra)
    log.build()
    assert (log.flag_in_week(SURFACE, 3) is not None) is fires


def test_surface_window_is_the_four_weeks_ending_this_sunday(log: TrainingLog) -> None:
    log.run(day(0, 3), 8.0, sport_type="TrailRun")
    _road_weeks(log, 5)
    log.build()
    assert [f["week_start"] for f in log.flags(SURFACE)] == [day(4)]


def _runs_with_splits(log: TrainingLog, first_split_paces: list[float]) -> None:
    for i, first in enumerate(first_split_paces):
        run_id = log.run(day(0, i), 5.0)
        log.km_splits(run_id, [first, 300, 300, 300, 300])


@pytest.mark.parametrize(
    ("first_paces", "fires"),
    [
        ([300, 300, 300, 300], True),
        ([315, 300, 300, 300], True),  # one of four warmed up (exactly 5% slower counts)
        ([315, 330, 300, 300], False),  # two of four: exactly half
        ([330, 330, 330, 300], False),
        ([300, 300], False),  # too few runs to judge
    ],
)
def test_warmup_watch_when_fewer_than_half_of_runs_start_easier(
    log: TrainingLog, first_paces: list[float], fires: bool
) -> None:
    _runs_with_splits(log, first_paces)
    log.build()
    assert (log.flag_in_week(WARMUP, 0) is not None) is fires


def test_warmup_counts_a_short_activity_just_before_the_run(log: TrainingLog) -> None:
    for i in range(4):
        start = dt.datetime.combine(day(0, i), dt.time(7, 30))
        if i < 2:
            log.activity(start - dt.timedelta(minutes=20), 1.0, 10, "Walk", spm=None, gear_id=None)
        run_id = log.run(start, 5.0)
        log.km_splits(run_id, [300] * 5)
    log.build()
    assert log.flag_in_week(WARMUP, 0) is None
    assert log.rows("select count(warmup_activity_id) as n from preparation") == [{"n": 2}]


def test_preparation_marks_cool_downs(log: TrainingLog) -> None:
    run_id = log.run(day(0, 1), 5.0)
    log.km_splits(run_id, [300, 300, 300, 300, 345])
    log.build()
    assert log.rows("select warmup_by_pace, cooldown_by_pace from preparation") == [
        {"warmup_by_pace": False, "cooldown_by_pace": True}
    ]


@pytest.mark.parametrize(
    ("strength_day", "fires"), [(None, True), (day(0, 0), True), (day(1, 0), False), (day(2, 6), False)]
)
def test_no_strength_in_14_days_is_a_watch(log: TrainingLog, strength_day: dt.date | None, fires: bool) -> None:
    for week in range(3):
        log.run(day(week, 2), 8.0)
    if strength_day:
        log.strength(strength_day)
    log.build()  # week 2's window is weeks 1 and 2
    assert (log.flag_in_week(NO_STRENGTH, 2) is not None) is fires


def test_window_rules_wait_until_the_history_covers_the_window(log: TrainingLog) -> None:
    log.run(day(0, 0), 8.0)  # a Monday: week 1's 14 days are all history
    log.run(day(1, 2), 8.0)
    log.build()
    assert [f["week_start"] for f in log.flags(NO_STRENGTH)] == [day(1)]
    assert log.flags(LOW_STRENGTH) == [] and log.flags(SURFACE) == []


def test_no_strength_counts_yoga_and_pilates(log: TrainingLog) -> None:
    log.run(day(0, 2), 8.0)
    log.strength(day(0, 4), sport_type="Yoga")
    log.build()
    assert log.flags(NO_STRENGTH) == []


@pytest.mark.parametrize(("sessions", "fires"), [(1, True), (3, True), (4, False)])
def test_low_strength_frequency_under_one_a_week_over_four_weeks(log: TrainingLog, sessions: int, fires: bool) -> None:
    log.history_from(day(0))  # week 3's 28 days are all history
    for week in range(4):
        log.run(day(week, 2), 8.0)
    for i in range(sessions):
        log.strength(day(3 - i, 4))
    log.build()
    flag = log.flag_in_week(LOW_STRENGTH, 3)
    assert (flag is not None) is fires
    if fires:
        assert flag["severity"] == "info" and flag["evidence"] == "moderate"


def test_low_strength_frequency_defers_to_the_14_day_watch(log: TrainingLog) -> None:
    for week in range(4):
        log.run(day(week, 2), 8.0)
    log.strength(day(0, 4))
    log.build()
    assert log.flag_in_week(NO_STRENGTH, 3) is not None
    assert log.flag_in_week(LOW_STRENGTH, 3) is None


def test_warmup_message_says_none_when_no_run_warmed_up(log: TrainingLog) -> None:
    _runs_with_splits(log, [300, 300, 300, 300])
    log.build()
    message = log.flag_in_week(WARMUP, 0)["message"]
    assert message.startswith("None of your 4 runs in the last 4 weeks began with an easier first kilometre")


def _runs_and_a_session(log: TrainingLog, sport_type: str, name: str, description: str = "") -> None:
    log.history_from(day(0))
    for week in range(2):
        log.run(day(week, 2), 8.0)
    log.activity(day(1, 4), 0.0, 20, sport_type, spm=None, gear_id=None, name=name, description=description)


@pytest.mark.parametrize(
    ("sport_type", "name", "description", "counts"),
    [
        ("WeightTraining", "Lunch session", "", True),
        ("Crossfit", "WOD", "", True),
        ("Pilates", "Reformer class", "", True),
        ("Yoga", "Morning flow", "", True),
        ("Workout", "Evening Workout", "", False),  # Strava's catch-all: a short indoor workout
        ("Workout", "Treadmill test", "", False),
        ("Workout", "HIIT", "30/30s on the bike", False),
        ("Workout", "Core circuit", "", True),
        ("Workout", "Gym", "", True),
        ("Workout", "Evening Workout", "kettlebell swings and bodyweight squats", True),
        ("Workout", "Hardcore intervals", "", False),  # whole words only
        ("Walk", "Walk to the gym", "", False),  # only Workouts are read for strength words
    ],
)
def test_only_strength_type_sessions_count_for_the_strength_rules(
    log: TrainingLog, sport_type: str, name: str, description: str, counts: bool
) -> None:
    _runs_and_a_session(log, sport_type, name, description)
    log.build()
    assert log.rows("select sessions from strength_routine where week_start = ?", [day(1)]) == [
        {"sessions": 1 if counts else 0}
    ]
    assert (log.flag_in_week(NO_STRENGTH, 1) is None) is counts


def test_the_strength_words_are_data_in_the_activity_categories_seed(log: TrainingLog, tmp_path: Path) -> None:
    _runs_and_a_session(log, "Workout", "Mobility", "")
    log.build()
    assert log.flag_in_week(NO_STRENGTH, 1) is not None
    sql_dir = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_dir)
    with (sql_dir / "seeds" / "activity_categories.csv").open("a") as seed:
        seed.write("strength_workout,word,mobility\n")
    build_models(log.con, sql_dir=sql_dir, as_of=AS_OF)
    assert log.flag_in_week(NO_STRENGTH, 1) is None
