"""The demo world: deterministic personas dated relative to today, each showing its pattern."""

from __future__ import annotations

import functools
import itertools
import statistics
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from stub_support import has_warmup, thirds, triggered_rules
from stub_today import TODAY

from pipeline.strava_stub import World, build_world, synthetic_world
from pipeline.strava_stub.demo_data import FACTORS, PAIN_WORDS, RULE_IDS, RUN_SPORTS, last_complete_week

PERSONAS = ("steady", "spiker", "fader", "niggle")
# Weekdays, a Monday and a Sunday, a DST change week in Europe and New York, a new year.
TODAYS = [TODAY, date(2026, 11, 23), date(2026, 11, 29), date(2027, 3, 15), date(2027, 3, 29), date(2027, 1, 1)]


@functools.cache
def shared_world(today: date = TODAY) -> World:
    """A world for read-only tests (built once per day; tests that change a world build their own)."""
    return build_world(today)


def _day(activity: dict) -> date:
    return date.fromisoformat(activity["start_date_local"][:10])


def _runs(world: World, persona: str) -> list[dict]:
    athlete = world.by_persona(persona)
    bad = set(athlete.bad_records.values())
    return [a for a in athlete.activities if a["sport_type"] in RUN_SPORTS and a["id"] not in bad]


def test_same_today_and_seed_give_an_identical_world() -> None:
    a, b = build_world(TODAY), build_world(TODAY)
    assert [x.activities for x in a.athletes.values()] == [x.activities for x in b.athletes.values()]
    assert [x.gear for x in a.athletes.values()] == [x.gear for x in b.athletes.values()]
    some_id = a.by_persona("fader").activities[-1]["id"]
    assert a.streams(some_id) == b.streams(some_id)


def test_another_seed_changes_the_details_but_not_the_ids() -> None:
    a, b = build_world(TODAY, seed=7), build_world(TODAY, seed=8)
    assert [x["id"] for x in a.by_persona("steady").activities] == [x["id"] for x in b.by_persona("steady").activities]
    assert a.by_persona("steady").activities != b.by_persona("steady").activities


def test_four_personas_with_the_documented_ids_and_zones() -> None:
    world = shared_world()
    assert {a.persona: a.athlete_id for a in world.athletes.values()} == {
        "steady": 1001,
        "spiker": 1002,
        "fader": 1003,
        "niggle": 1004,
    }
    for athlete in world.athletes.values():
        assert athlete.email == f"{athlete.persona}@demo.backstride.local"
        assert athlete.profile["id"] == athlete.athlete_id
        assert athlete.timezone in athlete.profile["timezone"]
        assert athlete.refresh_token and athlete.auth_code and athlete.refresh_token != athlete.auth_code


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_every_persona_has_runs_in_the_last_complete_week_and_none_from_today(today: date) -> None:
    world = shared_world(today)
    monday, sunday = last_complete_week(today)
    assert monday.weekday() == 0 and sunday < today <= sunday + timedelta(days=7)
    for persona in PERSONAS:
        days = [_day(a) for a in _runs(world, persona)]
        assert any(monday <= d <= sunday for d in days), persona
        assert max(days) < today


@pytest.mark.parametrize("persona", PERSONAS)
def test_at_least_six_months_of_history(persona: str) -> None:
    days = [_day(a) for a in shared_world().by_persona(persona).activities]
    assert (TODAY - min(days)).days >= 182


@pytest.mark.parametrize("today", TODAYS, ids=str)
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_shows_exactly_the_rules_it_is_built_for(today: date, persona: str) -> None:
    world = shared_world(today)
    expected = world.by_persona(persona).expected
    assert triggered_rules(world, persona) == expected["rules"]
    assert not expected["rules"] & expected["absent"] and not expected["shadowed"] & expected["absent"]
    assert expected["rules"] | expected["absent"] | expected["shadowed"] == RULE_IDS


def test_steady_triggers_nothing_and_every_factor_appears_somewhere() -> None:
    world = shared_world()
    assert world.by_persona("steady").expected["rules"] == set()
    shown = set().union(*(a.expected["factors"] for a in world.athletes.values()))
    assert shown == set(FACTORS)
    rules = set().union(*(a.expected["rules"] for a in world.athletes.values()))
    assert rules <= RULE_IDS
    assert rules == RULE_IDS  # every rule id is demonstrated by some persona


def test_steady_shows_nothing_in_any_week_once_four_weeks_of_history_exist() -> None:
    world = shared_world()
    monday = world.week()[0]
    for weeks_back in range(26):
        week = monday - timedelta(weeks=weeks_back)
        assert triggered_rules(world, "steady", week) == set(), week


def test_spiker_long_run_is_35_to_60_percent_over_the_previous_30_days_after_an_earlier_doubling() -> None:
    world = shared_world()
    monday, sunday = world.week()
    runs = sorted(_runs(world, "spiker"), key=lambda a: a["start_date"])

    def ratio(run: dict) -> float:
        start = datetime.fromisoformat(run["start_date"])
        prior = [
            r["distance"]
            for r in runs
            if timedelta(0) < start - datetime.fromisoformat(r["start_date"]) <= timedelta(days=30)
        ]
        return run["distance"] / max(prior)

    week = [r for r in runs if monday <= _day(r) <= sunday]
    assert 1.35 <= max(ratio(r) for r in week) <= 1.60
    earlier = [r for r in runs if monday - timedelta(weeks=8) <= _day(r) < monday - timedelta(weeks=3)]
    assert max(ratio(r) for r in earlier) > 2.0


def test_spiker_one_pair_of_shoes_about_850_km_first_worn_over_two_years_ago() -> None:
    world = shared_world()
    spiker = world.by_persona("spiker")
    (shoe,) = spiker.gear.values()
    assert 800_000 < shoe["distance"] < 900_000 and not shoe["retired"]
    first = min(_day(r) for r in _runs(world, "spiker") if r["gear_id"] == shoe["id"])
    assert (TODAY - first).days > 2 * 365
    assert {r["gear_id"] for r in _runs(world, "spiker")} == {shoe["id"]}


def test_fader_cadence_is_152_to_156_spm_and_fades_late_in_runs_without_warm_ups() -> None:
    world = shared_world()
    monday, sunday = world.week()
    week = [r for r in _runs(world, "fader") if monday <= _day(r) <= sunday]
    assert len(week) == 7
    for run in week:
        assert 76.0 <= run["average_cadence"] <= 78.0
        assert run["moving_time"] >= 45 * 60
        fade = thirds(world, run)
        assert fade["cadence_drop"] >= 0.05 and fade["pace_fade"] >= 0.10 and fade["hr_drift"] > 3
        assert not has_warmup(run)


def test_steady_runs_warm_up_and_keep_their_form() -> None:
    world = shared_world()
    monday, sunday = world.week()
    week = [r for r in _runs(world, "steady") if monday <= _day(r) <= sunday]
    assert 4 <= len(week) <= 5
    assert all(has_warmup(r) for r in week)
    for run in (r for r in week if r["moving_time"] >= 45 * 60):
        fade = thirds(world, run)
        assert fade["cadence_drop"] < 0.04 and fade["pace_fade"] < 0.08


def test_niggle_has_pain_notes_after_a_three_week_break_and_treadmill_runs() -> None:
    world = shared_world()
    monday, sunday = world.week()
    runs = sorted(_runs(world, "niggle"), key=lambda a: a["start_date"])
    gaps = [(_day(b) - _day(a)).days for a, b in itertools.pairwise(runs)]
    assert max(gaps) >= 21
    resumed = _day(runs[gaps.index(max(gaps)) + 1])
    assert 14 <= (TODAY - resumed).days <= 28
    notes = [a for a in world.by_persona("niggle").activities if monday <= _day(a) <= sunday and a.get("description")]
    assert any(word in a["description"].lower() for a in notes for word in PAIN_WORDS)
    assert any(r["sport_type"] == "VirtualRun" and r["trainer"] for r in runs if _day(r) >= resumed)


@pytest.mark.parametrize("persona", ["steady", "spiker", "fader"])
def test_no_pain_words_outside_the_niggle_persona(persona: str) -> None:
    for activity in shared_world().by_persona(persona).activities:
        text = f"{activity['name']} {activity.get('description') or ''}".lower()
        assert not [w for w in PAIN_WORDS if w in text], activity["name"]


def test_bad_records_are_there_and_shaped_as_documented() -> None:
    world = shared_world()
    bad = world.bad_records
    assert set(bad) == {"gps_glitch", "duplicate", "impossible_cadence"}
    assert world.by_persona("steady").bad_records == {}
    glitch = world.activity(bad["gps_glitch"])
    assert glitch["distance"] > 200_000 and glitch["moving_time"] <= 3600 and glitch["sport_type"] == "Run"
    assert world.activity(bad["impossible_cadence"])["average_cadence"] == 140.0
    owner, _ = world.find(bad["duplicate"])
    assert sum(1 for a in owner.activities if a["id"] == bad["duplicate"]) == 2


def test_a_hostile_activity_name_is_there_to_exercise_escaping() -> None:
    names = [a["name"] for a in shared_world().by_persona("fader").activities]
    assert "<script>alert(1)</script> tempo" in names


@pytest.mark.parametrize("persona", PERSONAS)
def test_runs_have_realistic_values_and_consistent_splits(persona: str) -> None:
    for run in _runs(shared_world(), persona):
        pace = run["moving_time"] / (run["distance"] / 1000)
        assert 240 <= pace <= 420, run["name"]
        assert 120 <= run["average_heartrate"] <= 185
        assert run["elapsed_time"] >= run["moving_time"]
        splits = run["splits_metric"]
        assert sum(s["moving_time"] for s in splits) == run["moving_time"]
        assert abs(sum(s["distance"] for s in splits) - run["distance"]) < 0.5
        assert all(abs(s["distance"] - 1000) < 1 for s in splits[:-1])
        assert run["start_date"].endswith("Z") and run["timezone"].startswith("(GMT")


def test_local_and_utc_start_times_agree_with_the_zone() -> None:
    fader = shared_world().by_persona("fader")  # Sydney: a 06:00 run starts the day before in UTC
    run = fader.activities[-1]
    utc = datetime.fromisoformat(run["start_date"])
    local = datetime.fromisoformat(run["start_date_local"].replace("Z", ""))
    assert local - utc.replace(tzinfo=None) == timedelta(seconds=run["utc_offset"])
    assert utc.date() < local.date()


@pytest.mark.parametrize("persona", PERSONAS)
def test_streams_agree_with_the_activity(persona: str) -> None:
    world = shared_world()
    monday, sunday = world.week()
    for run in (r for r in _runs(world, persona) if monday <= _day(r) <= sunday):
        s = world.streams(run["id"], ["time", "distance", "velocity_smooth", "heartrate", "cadence", "altitude"])
        n = len(s["time"]["data"])
        assert all(len(v["data"]) == n and v["original_size"] == n for v in s.values())
        assert s["time"]["data"][-1] == run["moving_time"]
        assert abs(s["distance"]["data"][-1] - run["distance"]) < 1
        assert abs(statistics.mean(s["cadence"]["data"]) - run["average_cadence"]) < 1.5
        assert abs(statistics.mean(s["heartrate"]["data"]) - run["average_heartrate"]) < 3
        steps = {b - a for a, b in zip(s["time"]["data"], s["time"]["data"][1:], strict=False)}
        assert max(steps) <= 5


def test_streams_without_gps_or_distance_have_only_what_the_activity_records() -> None:
    world = shared_world()
    yoga = next(a for a in world.by_persona("steady").activities if a["sport_type"] == "Yoga")
    assert set(world.streams(yoga["id"], ["time", "heartrate", "cadence", "latlng"])) == {"time", "heartrate"}
    treadmill = next(a for a in world.by_persona("niggle").activities if a["sport_type"] == "VirtualRun")
    assert "latlng" not in world.streams(treadmill["id"], ["latlng", "time"])
    road = _runs(world, "steady")[-1]
    latlng = world.streams(road["id"], ["latlng"])
    assert set(latlng) == {"latlng", "distance"} and len(latlng["latlng"]["data"][0]) == 2


def test_added_updated_and_deleted_activities_change_the_world() -> None:
    world = build_world(TODAY)
    steady = world.by_persona("steady")
    run = world.new_run(steady.athlete_id, datetime(2026, 11, 25, 7, 30), 6.0, 330, warmup=True)
    stored = world.add_activity(steady.athlete_id, run)
    assert world.find(stored["id"])[0] is steady
    assert world.streams(stored["id"], ["time"])["time"]["data"][-1] == stored["moving_time"]
    world.update_activity(steady.athlete_id, stored["id"], {"name": "Renamed", "description": "new notes"})
    assert world.activity(stored["id"])["name"] == "Renamed"
    assert world.delete_activity(steady.athlete_id, stored["id"]) is True
    assert world.activity(stored["id"]) is None
    with pytest.raises(KeyError):
        world.streams(stored["id"])


def test_a_minimal_added_activity_gets_strava_defaults() -> None:
    world = build_world(TODAY)
    stored = world.add_activity(1004, {"sport_type": "Run", "start_date": "2026-11-25T17:00:00Z", "distance": 5000.0})
    assert stored["athlete"] == {"id": 1004, "resource_state": 1}
    assert stored["start_date_local"] == "2026-11-25T18:00:00Z" and "Europe/Berlin" in stored["timezone"]
    assert stored["id"] > max(a["id"] for a in world.by_persona("spiker").activities if a is not stored)


def test_synthetic_world_makes_many_plain_runs_cheaply() -> None:
    world = synthetic_world(2, 450, today=TODAY)
    assert len(world.athletes) == 2
    for athlete in world.athletes.values():
        ids = [a["id"] for a in athlete.activities]
        assert len(ids) == len(set(ids)) == 450
        assert max(_day(a) for a in athlete.activities) < TODAY
    assert (
        synthetic_world(1, 30, today=TODAY).athletes[5001].activities
        == synthetic_world(1, 30, today=TODAY).athletes[5001].activities
    )


@pytest.mark.parametrize(("today", "seed"), [(TODAY, 7), (date(2027, 3, 29), 7), (TODAY, 11)], ids=str)
def test_the_duplicate_sits_at_the_page_boundary_of_a_full_sync_whatever_the_day(today: date, seed: int) -> None:
    world = build_world(today, seed=seed)
    spiker = world.by_persona("spiker")
    oldest_first = sorted(spiker.activities, key=lambda a: a["start_date"])
    ids = [a["id"] for a in oldest_first]
    assert ids.index(spiker.bad_records["duplicate"]) == 199 and ids[200] == ids[199]


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 11, 23, 2, 30, tzinfo=UTC), datetime(2026, 11, 22, 20, 0, tzinfo=UTC)],
    ids=["monday-early-utc", "sunday-evening-utc"],
)
def test_without_a_date_each_athlete_gets_the_pattern_in_their_own_last_local_week(now: datetime) -> None:
    world = build_world(now=now)
    assert world.today == now.date()
    for athlete in world.athletes.values():
        local_today = now.astimezone(ZoneInfo(athlete.timezone)).date()
        assert athlete.today == local_today
        assert world.week(athlete.athlete_id) == last_complete_week(local_today)
        assert max(_day(a) for a in athlete.activities) < local_today
        assert triggered_rules(world, athlete.persona) == athlete.expected["rules"]
    # Near midnight UTC some zones are already on Monday, others still on Sunday.
    assert len({world.week(a) for a in world.athletes}) == 2
