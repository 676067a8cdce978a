"""The spiker persona: Spikes, runs after big runs, one worn-out pair of shoes."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from pipeline.strava_stub.demo_data.athlete import DemoAthlete, Shoe, make_athlete
from pipeline.strava_stub.demo_data.builder import Builder, Place, persona_start
from pipeline.strava_stub.demo_data.constants import DUPLICATE_PAGE_INDEX
from pipeline.strava_stub.demo_data.dates import history

_LONG_CYCLE = (9.0, 9.6, 10.0)
_NAMES = ("Morning Run", "Evening Run", "Hudson River run", "Central Park loop", "Lunch Run", "Brooklyn Bridge loop")
_SHOE = "g1002a"
_RULES = {
    "distance.single_run_spike",
    "distance.recovery_after_big_run",
    "shoes.mileage",
    "shoes.age",
    "shoes.rotation",
    "surface.no_soft_surface",
    "strength.no_strength_14d",
}


def spiker(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """Weekly runs for two years in one pair of shoes, then 4 a week with big spikes."""
    b, week0 = persona_start("spiker", 1002, today, seed, Place(40.78, -73.97, 12.0))
    for day, wk, dow in history(week0, 116, today):
        common = {"cadence": b.rng.uniform(84.0, 86.0), "gear": _SHOE}
        if wk >= 13:  # two years of one easy run a week
            if dow == 5:
                b.run(day, time(8, 0), b.rng.uniform(3.8, 4.4), 345, hr=148, name="Saturday Run",
                      warmup=wk % 4 != 0, **common)  # fmt: skip
            continue
        _day(b, day, wk, dow, common)
    _walks_to_850_km(b, week0)
    _walks_before_duplicate(b, week0)
    return make_athlete(
        athlete_id=1002, persona="spiker", tz=b.tz, seed=seed, today=today, builder=b,
        shoes=[Shoe(_SHOE, "HOKA", "Clifton 8", primary=True)],
        person=("Diego", "Ramírez", "New York", "NY", "United States", "M", 78.0),
        rules=_RULES, shadowed={"strength.low_frequency"}, bad_tags=("gps_glitch",), duplicate_tag="duplicate",
        profiles=profiles,
    )  # fmt: skip


def _day(b: Builder, day: date, wk: int, dow: int, common: dict[str, Any]) -> None:
    """One day of the last 13 weeks: four runs a week, spikes, the GPS glitch and the duplicate."""
    r = b.rng
    if dow == 1:
        b.run(day, time(18, 0), r.uniform(5.8, 6.2), 340, hr=150, name=r.choice(_NAMES), warmup=True, **common)
    elif dow == 2 and wk >= 7 and wk % 2 == 1:
        b.session(day, time(7, 0), "Workout", 30, "Core circuit", "Planks and bridges.")
    elif dow == 2 and wk == 2:
        b.run(day, time(12, 30), 212.0, 14.15, hr=150, name="Lunch Run", tags=("gps_glitch",), **common)
    elif dow == 3:
        tags = ("duplicate",) if wk == 3 else ()
        km = r.uniform(6.3, 6.7)
        b.run(day, time(18, 0), km, 330, hr=155, name=r.choice(_NAMES), warmup=True, tags=tags, **common)
    elif dow == 5:
        _saturday(b, day, wk, common)
    elif dow == 6:
        b.run(day, time(9, 0), r.uniform(4.8, 5.2), 355, hr=146, name="Sunday shakeout", **common)


def _saturday(b: Builder, day: date, wk: int, common: dict[str, Any]) -> None:
    """The long run: a half marathon six weeks back, the spike in the last complete week."""
    if wk == 6:
        b.run(day, time(7, 30), 21.1, 320, hr=171, name="Half marathon!", workout_type=1, warmup=True,
              description="First half marathon. Went out with the 1:55 group and hung on.", **common)  # fmt: skip
    elif wk == 0:
        b.run(day, time(8, 0), 14.5, 350, hr=152, name="Long run, longest in a while", warmup=True,
              description="Felt great, kept going past the usual turn.", **common)  # fmt: skip
    else:
        km = _LONG_CYCLE[(100 - wk) % len(_LONG_CYCLE)]
        b.run(day, time(8, 0), km, 350, hr=149, name="Saturday long run", warmup=True, **common)


def _walks_to_850_km(b: Builder, week0: date) -> None:
    """Walks in the same shoes bring Strava's shoe total to about 850 km."""
    runs_m = sum(a["distance"] for _, a, _, t in b.raw if a.get("gear_id") == _SHOE and "gps_glitch" not in t)
    walk_day = week0 - timedelta(days=7)
    while runs_m < 848_000:
        walk = b.run(walk_day, time(17, 30), 5.0, 660, cadence=56.0, hr=98, gear=_SHOE, sport_type="Walk",
                     name="Walk to the farmers market")  # fmt: skip
        runs_m += walk["distance"]
        walk_day -= timedelta(days=7)


def _walks_before_duplicate(b: Builder, week0: date) -> None:
    """Gearless Sunday walks early on, as many as put exactly 199 activities before the duplicate:
    oldest first at 200 a page (a full sync), its two copies end page 1 and start page 2."""
    dup_start = next(start for start, _, _, tags in b.raw if "duplicate" in tags)
    missing = DUPLICATE_PAGE_INDEX - sum(1 for start, _, _, _ in b.raw if start < dup_start)
    for k in range(max(0, missing)):
        day = week0 - timedelta(weeks=115 - k, days=1)
        b.session(day, time(15, 0), "Walk", 50, "Sunday walk", hr=92)
