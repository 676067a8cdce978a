"""The steady persona, the control: steady training, no pattern in any week."""

from __future__ import annotations

from datetime import date, time, timedelta

from pipeline.strava_stub.demo_data.athlete import DemoAthlete, make_athlete, shoes_of
from pipeline.strava_stub.demo_data.builder import Builder, Place, persona_start
from pipeline.strava_stub.demo_data.dates import history

_LONG_CYCLE = (13.0, 13.8, 14.6, 15.4, 11.5)  # never more than 10% above the previous 30 days
_EASY_NAMES = ("Evening Run", "Commons loop", "Easy miles by the river", "Battersea Park run")
_EASY_NOTES = (None, "Nice and easy.", "Chatty pace with Sam.", None, "Windy along the river but fine.")
_TRAIL_NAMES = ("Saturday trail loop", "Richmond Park trail", "Grass loops on the common", "Wimbledon trail run")
_SHOES = (
    ("g1001a", "Nike", "Pegasus 40", "Blue Pegs", True, False),
    ("g1001b", "ASICS", "Novablast 4", "", False, False),
    ("g1001t", "HOKA", "Speedgoat 5", "Mud shoes", False, False),
    ("g1001r", "Brooks", "Ghost 14", "", False, True),
)


def steady(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """4-5 runs a week with warm-ups, a weekly trail run, strength and yoga, gentle long runs."""
    b, week0 = persona_start("steady", 1001, today, seed, Place(51.465, -0.16, 18.0))
    # History opens with her longest run, so the first weeks show no spike against an empty past.
    b.run(week0 - timedelta(weeks=30, days=1), time(9, 0), max(_LONG_CYCLE), 335, hr=147, gear="g1001r",
          name="Sunday long run", cadence=87.5, warmup=True, cooldown=True)  # fmt: skip
    for day, wk, dow in history(week0, 30, today):
        _day(b, day, wk, dow)
    return make_athlete(
        athlete_id=1001, persona="steady", tz=b.tz, seed=seed, today=today, builder=b, shoes=shoes_of(_SHOES),
        person=("Hannah", "Okafor", "London", "England", "United Kingdom", "F", 61.0),
        rules=set(), bad_tags=(), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip


def _day(b: Builder, day: date, wk: int, dow: int) -> None:
    """One day of her week: easy runs, strength, a tempo, yoga, a trail run, the long run."""
    r = b.rng
    new_shoes = wk < 16
    road_a = "g1001a" if new_shoes else "g1001r"
    road_b = "g1001b" if new_shoes else "g1001r"
    common = {"cadence": r.uniform(86.5, 88.5), "warmup": True, "cooldown": True}
    if dow == 0 and wk % 3 == 0:
        b.session(day, time(12, 30), "Walk", 45, "Lunch walk")
    elif dow == 1:
        km = r.uniform(7.6, 8.4)
        name, note = r.choice(_EASY_NAMES), r.choice(_EASY_NOTES)
        b.run(day, time(18, 30), km, 335, hr=142, gear=road_b, name=name, description=note, **common)
    elif dow == 2:
        b.session(day, time(7, 0), "WeightTraining", 35, "Strength circuit", "Squats, deadlifts, planks.")
        if wk % 2 == 0:
            b.run(day, time(18, 30), r.uniform(5.8, 6.2), 340, hr=140, gear=road_b, name="Recovery jog", **common)
    elif dow == 3:
        b.run(day, time(18, 30), r.uniform(8.8, 9.2), 305, hr=161, gear=road_a, name="Thursday tempo",
              description="2 km easy, 5 km at tempo, 2 km easy.", **common)  # fmt: skip
    elif dow == 4:
        b.session(day, time(7, 0), "Yoga", 45, "Morning yoga", "Hips and hamstrings flow.", hr=88)
    elif dow == 5:
        km = r.uniform(6.8, 7.2)
        b.run(day, time(9, 0), km, 370, hr=146, gear="g1001t", sport_type="TrailRun", name=r.choice(_TRAIL_NAMES),
              elevation=22.0, **common)  # fmt: skip
    elif dow == 6:
        km = _LONG_CYCLE[(100 - wk) % len(_LONG_CYCLE)]
        b.run(day, time(9, 0), km, 335, hr=147, gear=road_a, name="Sunday long run",
              description="Steady long run, fuelled at halfway. Coffee & cake after.", **common)  # fmt: skip
