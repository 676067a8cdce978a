"""The niggle persona: Pain notes, a return after a break, a spike, treadmill runs."""

from __future__ import annotations

from datetime import date, time
from typing import Any

from pipeline.strava_stub.demo_data.athlete import DemoAthlete, make_athlete, shoes_of
from pipeline.strava_stub.demo_data.builder import Builder, Place, persona_start
from pipeline.strava_stub.demo_data.dates import history

_LONG_CYCLE = (11.0, 12.0, 13.0, 14.0)
_NAMES = ("Feierabendlauf", "Evening Run", "Tiergarten loop", "Landwehrkanal run")
# The return after the break: weeks back -> {weekday: (km, name, description)}
_COMEBACK: dict[int, dict[int, tuple[float, str, str | None]]] = {
    2: {0: (5.0, "First run in three weeks", "Easy. Felt careful."), 2: (5.0, "Treadmill", None),
        5: (6.0, "Saturday Run", None)},
    1: {0: (6.0, "Evening Run", None), 2: (6.0, "Treadmill", None), 4: (6.0, "Evening Run", None),
        5: (8.0, "Longest since the break", "Felt ok.")},
    0: {0: (7.0, "Evening Run", "Lower back a bit stiff this morning, loosened up after 2 km."),
        2: (6.0, "Treadmill", "Twinge in my back on the treadmill, saw the physio afterwards."),
        4: (6.0, "Evening Run", None),
        5: (12.5, "Long run along the Spree", "Wanted to see where I am.")},
    -1: {0: (6.0, "Evening Run", "Lower back still stiff."), 2: (6.0, "Treadmill", None),
         4: (6.0, "Evening Run", None), 5: (8.0, "Saturday Run", None)},
}  # fmt: skip
_SHOES = (
    ("g1004a", "adidas", "Ultraboost 22", "", False, True),
    ("g1004b", "adidas", "Adizero SL", "", True, False),
    ("g1004t", "Nike", "Revolution 6", "Gym shoes", False, False),
)
_RULES = {
    "injury.pain_notes",
    "injury.return_after_break",
    "distance.single_run_spike",
    "distance.weekly_change",
    "surface.no_soft_surface",
}


def niggle(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """A tight back, three weeks off, then back to running too fast, with pain notes."""
    b, week0 = persona_start("niggle", 1004, today, seed, Place(52.51, 13.40, 38.0))
    for day, wk, dow in history(week0, 30, today):
        common = {"cadence": b.rng.uniform(83.5, 85.0)}
        if wk >= 6:
            _before_the_break(b, day, wk, dow, common)
            continue
        if dow in (1, 3):
            b.session(day, time(7, 0), "Workout", 25, "Physio core exercises", "Bird dogs, dead bugs, side planks.")
        if wk >= 3:  # the break: walks, no runs
            if dow == 5:
                b.session(day, time(10, 0), "Walk", 60, "Walk in the Tiergarten")
            continue
        _comeback(b, day, wk, dow, common)
    return make_athlete(
        athlete_id=1004, persona="niggle", tz=b.tz, seed=seed, today=today, builder=b, shoes=shoes_of(_SHOES),
        person=("Jonas", "Becker", "Berlin", "Berlin", "Germany", "M", 74.0),
        rules=_RULES, bad_tags=(), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip


def _before_the_break(b: Builder, day: date, wk: int, dow: int, common: dict[str, Any]) -> None:
    """Four runs and a core session a week until the back tightened, six weeks back."""
    r = b.rng
    road = "g1004b" if wk < 14 else "g1004a"
    if dow == 0:
        b.run(day, time(18, 0), r.uniform(6.8, 7.2), 330, hr=148, gear=road, name=r.choice(_NAMES), warmup=True,
              cooldown=True, **common)  # fmt: skip
    elif dow == 2:
        b.run(day, time(19, 0), r.uniform(6.8, 7.2), 315, hr=155, gear="g1004t", sport_type="VirtualRun",
              trainer=True, name="Treadmill intervals", **common)  # fmt: skip
    elif dow == 3:
        b.session(day, time(7, 0), "Workout", 30, "Core & mobility")
    elif dow == 4:
        km = r.uniform(6.3, 6.7)
        b.run(day, time(18, 0), km, 335, hr=147, gear=road, name=r.choice(_NAMES), warmup=True, **common)
    elif dow == 5:
        km = 14.0 if wk == 6 else _LONG_CYCLE[(100 - wk) % len(_LONG_CYCLE)]
        note = "Lower back tight after this one." if wk == 6 else None
        b.run(day, time(9, 30), km, 345, hr=149, gear=road, name="Long run", description=note, warmup=True,
              **common)  # fmt: skip


def _comeback(b: Builder, day: date, wk: int, dow: int, common: dict[str, Any]) -> None:
    """The planned run of the day since the break, if any (`_COMEBACK`)."""
    plan = _COMEBACK.get(wk, _COMEBACK[-1]).get(dow)
    if not plan:
        return
    km, name, note = plan
    if name == "Treadmill":
        b.run(day, time(19, 0), km, 330, hr=150, gear="g1004t", sport_type="VirtualRun", trainer=True, name=name,
              description=note, **common)  # fmt: skip
    else:
        b.run(day, time(18, 0) if dow != 5 else time(9, 30), km, 345, hr=150, gear="g1004b", name=name,
              description=note, warmup=True, cooldown=dow == 0, **common)  # fmt: skip
