"""Helpers for the onboarding tests: a simulated clock shared by the stub and the pipeline, shoes
Strava serves but leaves out of the profile, and the newest-week boundary of an athlete."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from pipeline.strava_stub.demo_data import World
from pipeline.sync.plan import urgent_start

WINDOW_S = 900  # Strava's 15-minute rate-limit window


class SimClock:
    """Epoch seconds that move only when told (never slept). Starts just after a window boundary."""

    def __init__(self, start: float | None = None) -> None:
        now = time.time() if start is None else start
        self.now = float(int(now // WINDOW_S) * WINDOW_S + 1)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = WINDOW_S) -> None:
        self.now += seconds


class ProfileHides(dict):
    """An athlete's gear: every entry answers at /gear/{id}, but `hidden` ones are left out of
    the profile's `shoes` (Strava lists only some shoes there; activities name the others)."""

    def __init__(self, gear: dict[str, dict[str, Any]], hidden: set[str]) -> None:
        super().__init__(gear)
        self.hidden = set(hidden)

    def values(self):  # type: ignore[override]
        return [v for k, v in self.items() if k not in self.hidden]


def add_hidden_shoe(world: World, athlete_id: int, gear_id: str, every: int = 4) -> list[int]:
    """Give `athlete_id` a shoe only activities mention: every `every`-th run wears it. Returns those run ids."""
    athlete = world.athlete(athlete_id)
    worn = [a for i, a in enumerate(sorted(athlete.activities, key=lambda a: a["start_date"])) if i % every == 0]
    shoe = {
        "id": gear_id,
        "primary": False,
        "name": "Trail shoe",
        "nickname": None,
        "resource_state": 3,
        "retired": False,
        "distance": round(sum(a["distance"] for a in worn), 1),
        "converted_distance": 0.0,
        "brand_name": "Salomon",
        "model_name": "Speedcross 6",
        "description": None,
        "notification_distance": 0,
    }
    athlete.gear = ProfileHides({**athlete.gear, gear_id: shoe}, {gear_id})
    for activity in worn:
        activity["gear_id"] = gear_id
        activity.pop("gear", None)
    return [a["id"] for a in worn]


def wear_unknown_gear(world: World, athlete_id: int, gear_id: object, runs: int) -> list[int]:
    """The newest `runs` runs wear a gear id Strava answers 404 for. Returns their ids."""
    athlete = world.athlete(athlete_id)
    newest = sorted(athlete.activities, key=lambda a: a["start_date"], reverse=True)[:runs]
    for activity in newest:
        activity["gear_id"] = gear_id
        activity.pop("gear", None)
    return [a["id"] for a in newest]


def newest_week_start(now: float, timezone: str) -> datetime:
    """Monday 00:00 (athlete's zone) of the last complete week at `now`, as a UTC datetime."""
    return datetime.fromtimestamp(urgent_start(now, timezone), UTC)
