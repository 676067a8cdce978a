"""The fader persona: Low cadence, form fading late, no warm-ups, the same load every day."""

from __future__ import annotations

from datetime import date, time

from pipeline.strava_stub.demo_data.athlete import DemoAthlete, make_athlete, shoes_of
from pipeline.strava_stub.demo_data.builder import Builder, Place, persona_start
from pipeline.strava_stub.demo_data.dates import history

_NAMES = ("Dawn run", "Harbour run", "Morning Run", "Bondi to Bronte", "Centennial Park loop")
_NOTES = (None, "Legs heavy at the end again.", None, "Humid one.", "Ran out of steam in the last few km.")
_FADING = {"fade": 0.16, "cadence_fade": 0.085, "hr_drift": 12.0, "fast_start": True}
_SHOES = (
    ("g1003a", "ASICS", "Gel-Kayano 29", "", False, True),
    ("g1003b", "ASICS", "Gel-Kayano 30", "", True, False),
    ("g1003t", "Saucony", "Endorphin Speed 3", "Speed day shoes", False, False),
)
_RULES = {
    "posture.cadence",
    "posture.form_fading",
    "preparation.warmup",
    "distance.monotony",
    "distance.recovery_after_big_run",
    "shoes.unknown_gear",
    "strength.low_frequency",
}


def fader(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """Runs every day at dawn, low cadence that fades late, no warm-ups, little strength work."""
    b, week0 = persona_start("fader", 1003, today, seed, Place(-33.87, 151.21, 25.0))
    for day, wk, dow in history(week0, 30, today):
        no_gear = day.toordinal() % 5 in (0, 2)
        road = None if no_gear else ("g1003b" if wk < 14 else "g1003a")
        cadence = b.rng.uniform(78.2, 79.0)
        if wk == 1 and dow == 2:
            _impossible_cadence(b, day, road)
            continue
        _run(b, day, wk, dow, road, cadence)
        if dow == 5 and wk % 2 == 0:
            b.session(day, time(16, 0), "Yoga", 40, "Yoga class", "Slow flow.", hr=85)
    return make_athlete(
        athlete_id=1003, persona="fader", tz=b.tz, seed=seed, today=today, builder=b, shoes=shoes_of(_SHOES),
        person=("Priya", "Natarajan", "Sydney", "NSW", "Australia", "F", 57.0),
        rules=_RULES, bad_tags=("impossible_cadence",), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip


def _impossible_cadence(b: Builder, day: date, road: str | None) -> None:
    """The bad record: a sensor stuck at 140 strides/min, in the activity and its streams."""
    bad = b.run(day, time(6, 0), 8.3, 350, cadence=140.0, hr=150, gear=road, name="Morning Run",
                tags=("impossible_cadence",), fade=0.16, hr_drift=12.0)  # fmt: skip
    b.raw[-1][2][:] = [140.0] * len(bad["splits_metric"])
    bad["average_cadence"] = bad["laps"][0]["average_cadence"] = 140.0


def _run(b: Builder, day: date, wk: int, dow: int, road: str | None, cadence: float) -> None:
    """The day's fading dawn run: the track on Tuesdays, the week's longest on Sundays."""
    r = b.rng
    if dow == 1:
        b.run(day, time(6, 0), r.uniform(8.1, 8.5), 345, cadence=cadence, hr=152, gear="g1003t",
              name="Tuesday track session", description="6 x 800 m at the track.", **_FADING)  # fmt: skip
    elif dow == 6:
        km = min(10.5, 9.6 + 0.1 * max(0, 8 - wk)) + r.uniform(-0.02, 0.02)  # the longest run of the week
        b.run(day, time(6, 0), km, 355, cadence=cadence, hr=150, gear=road, name="Sunday long-ish run",
              description=r.choice(_NOTES), **_FADING)  # fmt: skip
    else:
        name = r.choice(_NAMES)
        if wk == 0 and dow == 3:
            name = "<script>alert(1)</script> tempo"
        km = r.uniform(8.1, 8.5)
        b.run(day, time(6, 0), km, 350, cadence=cadence, hr=150, gear=road, name=name,
              description=r.choice(_NOTES), **_FADING)  # fmt: skip
