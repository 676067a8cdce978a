"""`build_world`: the four demo personas, dated around today."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from pipeline.strava_stub.demo_data.constants import PERSONA_ZONES
from pipeline.strava_stub.demo_data.fader import fader
from pipeline.strava_stub.demo_data.niggle import niggle
from pipeline.strava_stub.demo_data.spiker import spiker
from pipeline.strava_stub.demo_data.steady import steady
from pipeline.strava_stub.demo_data.world import World


def build_world(today: date | None = None, seed: int = 7, *, now: datetime | None = None) -> World:
    """The four demo personas, dated so that the last complete week shows their patterns.

    With `today`, every athlete's data is built around that date. Without it, around each
    athlete's own local date at `now` (default: the current time), so the pattern sits in the
    last complete week of their time zone even when UTC is already on another day.
    """
    instant = (now or datetime.now(UTC)).astimezone(UTC)
    profiles: dict[int, list[float]] = {}
    makers = {"steady": steady, "spiker": spiker, "fader": fader, "niggle": niggle}
    athletes = []
    for persona, make in makers.items():
        local_today = today or instant.astimezone(ZoneInfo(PERSONA_ZONES[persona])).date()
        athlete = make(local_today, seed, profiles)
        athlete.today = local_today
        athletes.append(athlete)
    return World(
        today=today or instant.date(),
        seed=seed,
        athletes={a.athlete_id: a for a in athletes},
        cadence_profiles=profiles,
    )
