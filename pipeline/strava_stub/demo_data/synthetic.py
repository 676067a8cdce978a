"""Cheap plain athletes for paging tests and benchmarks."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from pipeline.strava_stub.demo_data.athlete import DemoAthlete, Shoe, make_athlete
from pipeline.strava_stub.demo_data.builder import Builder, Place
from pipeline.strava_stub.demo_data.world import World


def synthetic_world(
    n_athletes: int = 1,
    activities_per_athlete: int = 450,
    *,
    today: date | None = None,
    seed: int = 7,
    first_athlete_id: int = 5001,
) -> World:
    """Cheap plain athletes for paging tests and benchmarks: one run a day going back in time.

    Runs go back `activities_per_athlete` days before `today` (with two runs a day if that
    would reach further back than about three years). Personas are "synthetic".
    """
    today = today or datetime.now(UTC).date()
    profiles: dict[int, list[float]] = {}
    athletes: dict[int, DemoAthlete] = {}
    for n in range(n_athletes):
        athlete = _synthetic_athlete(n, first_athlete_id + n, activities_per_athlete, today, seed, profiles)
        athletes[athlete.athlete_id] = athlete
    return World(today=today, seed=seed, athletes=athletes, cadence_profiles=profiles)


def _synthetic_athlete(
    n: int, athlete_id: int, count: int, today: date, seed: int, profiles: dict[int, list[float]]
) -> DemoAthlete:
    """The `n`th synthetic athlete: `count` plain runs, alternating between two pairs of shoes."""
    tz = ("UTC", "Europe/Paris", "America/Chicago", "Asia/Tokyo")[n % 4]
    b = Builder(athlete_id, tz, random.Random(seed * 1_000_003 + athlete_id), Place(48.85, 2.35, 35.0))
    shoes = [
        Shoe(f"g{athlete_id}a", "Nike", "Pegasus 41", primary=True),
        Shoe(f"g{athlete_id}b", "On", "Cloudmonster"),
    ]
    _plain_runs(b, count, today, [s.gear_id for s in shoes])
    athlete = make_athlete(
        athlete_id=athlete_id, persona=f"synthetic{n + 1}", tz=tz, seed=seed, today=today, builder=b, shoes=shoes,
        person=("Synthetic", f"Runner {n + 1}", "Paris", "", "France", "F", 60.0),
        rules=set(), bad_tags=(), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip
    athlete.expected = {}
    athlete.today = today
    return athlete


def _plain_runs(b: Builder, count: int, today: date, gear_ids: list[str]) -> None:
    """`count` runs back from yesterday, one a day (two if one a day would pass about three years)."""
    r = b.rng
    per_day = 1 if count <= 1100 else 2
    made = 0
    day = today - timedelta(days=1)
    while made < count:
        for slot in range(per_day):
            if made >= count:
                break
            b.run(day, time(7 + 10 * slot, 15), r.uniform(5.0, 12.0), r.uniform(290, 380), cadence=r.uniform(80, 90),
                  hr=r.uniform(135, 165), gear=gear_ids[made % 2], warmup=r.random() < 0.6, name=f"Run {made + 1}")  # fmt: skip
            made += 1
        day -= timedelta(days=1)
