"""`Builder`: one athlete's runs and sessions as DetailedActivity JSON, in local time."""

from __future__ import annotations

import copy
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.strava_stub.demo_data.constants import PERSONA_ZONES, legacy_type
from pipeline.strava_stub.demo_data.dates import iso, last_complete_week, strava_zone


def _pace_zone(pace: float) -> int:
    for zone, limit in ((1, 390), (2, 345), (3, 315), (4, 285)):
        if pace > limit:
            return zone
    return 5


def _split_distances(km: float) -> list[float]:
    """Whole kilometres, then the rest if it is at least 50 m (or the run is under 1 km)."""
    metres = round(km * 1000, 1)
    dists = [1000.0] * int(metres // 1000)
    rest = round(metres - 1000 * len(dists), 1)
    if rest >= 50 or not dists:
        dists.append(rest)
    return dists


@dataclass(frozen=True)
class _Shape:
    """How a run's splits drift: its pace, cadence and heart rate and what bends them."""

    pace: float
    cadence: float
    hr: float
    hr_drift: float
    fade: float
    cadence_fade: float
    fast_start: bool
    warmup: bool
    cooldown: bool
    elevation: float
    trainer: bool


# Every DetailedActivity starts as this; `Builder._base` fills in what differs (key order as Strava's).
_BLANK_ACTIVITY: dict[str, Any] = {
    "id": 0,
    "resource_state": 3,
    "external_id": "",
    "upload_id": 0,
    "athlete": None,  # set per activity
    "name": None,  # set per activity
    "description": None,  # set per activity
    "distance": 0.0,
    "moving_time": 0,
    "elapsed_time": 0,
    "total_elevation_gain": 0.0,
    "type": None,  # set per activity
    "sport_type": None,  # set per activity
    "workout_type": None,
    "start_date": None,  # set per activity
    "start_date_local": None,  # set per activity
    "timezone": None,  # set per activity
    "utc_offset": None,  # set per activity
    "location_city": None,
    "location_state": None,
    "location_country": None,
    "achievement_count": 0,
    "kudos_count": None,  # set per activity
    "comment_count": None,  # set per activity
    "athlete_count": 1,
    "photo_count": 0,
    "total_photo_count": 0,
    "map": {"id": "", "summary_polyline": "", "resource_state": 2},
    "trainer": False,
    "commute": False,
    "manual": False,
    "private": False,
    "visibility": "everyone",
    "flagged": False,
    "gear_id": None,
    "start_latlng": [],
    "end_latlng": [],
    "average_speed": 0.0,
    "max_speed": 0.0,
    "has_heartrate": False,
    "heartrate_opt_out": False,
    "display_hide_heartrate_option": True,
    "pr_count": 0,
    "has_kudoed": False,
    "suffer_score": None,
    "calories": 0.0,
    "perceived_exertion": None,
    "prefer_perceived_exertion": False,
    "segment_efforts": [],
    "splits_metric": [],
    "laps": [],
    "device_name": "Garmin Forerunner 265",
    "embed_token": "",
}


@dataclass
class Place:
    lat: float
    lng: float
    altitude: float


class Builder:
    """Accumulates one athlete's activities in local time; ids are assigned at the end."""

    def __init__(self, athlete_id: int, tz: str, rng: random.Random, place: Place | None = None) -> None:
        self.athlete_id = athlete_id
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.rng = rng
        self.place = place or Place(51.5, -0.12, 20.0)
        # (start utc, activity, cadence profile, tags)
        self.raw: list[tuple[datetime, dict[str, Any], list[float] | None, set[str]]] = []

    def _base(
        self, day: date, at: time, sport_type: str, name: str, description: str | None
    ) -> tuple[datetime, dict[str, Any]]:
        local = datetime.combine(day, at)
        start = local.replace(tzinfo=self.zone).astimezone(UTC)
        offset = local.replace(tzinfo=self.zone).utcoffset() or timedelta(0)
        activity = copy.deepcopy(_BLANK_ACTIVITY)
        activity.update(
            {
                "athlete": {"id": self.athlete_id, "resource_state": 1},
                "name": name,
                "description": description or None,
                "type": legacy_type(sport_type),
                "sport_type": sport_type,
                "start_date": iso(start),
                "start_date_local": iso(local),
                "timezone": strava_zone(self.tz, start),
                "utc_offset": float(offset.total_seconds()),
                "kudos_count": self.rng.randint(0, 14),
                "comment_count": self.rng.randint(0, 2),
            }
        )
        return start, activity

    def run(
        self,
        day: date,
        at: time,
        km: float,
        pace: float,
        *,
        cadence: float = 85.0,
        hr: float = 145.0,
        gear: str | None = None,
        name: str = "Morning Run",
        description: str | None = None,
        sport_type: str = "Run",
        warmup: bool = False,
        cooldown: bool = False,
        fast_start: bool = False,
        fade: float = 0.0,
        cadence_fade: float = 0.0,
        hr_drift: float = 3.0,
        elevation: float = 6.0,
        trainer: bool = False,
        workout_type: int = 0,
        tags: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A run (or walk) with per-km splits whose shape carries the persona's pattern.

        `pace` is seconds per km, `cadence` strides per minute (Strava style). Warm-up makes
        the first split 9-13% slower than the rest, cool-down the last; `fade` and
        `cadence_fade` slow the pace and lower the cadence over the last third.
        """
        start, act = self._base(day, at, sport_type, name, description)
        shape = _Shape(
            pace, cadence, hr, hr_drift, fade, cadence_fade, fast_start, warmup, cooldown, elevation, trainer
        )
        splits, cads, alts = self._splits(_split_distances(km), shape)
        act.update(self._totals(splits, cads, alts, trainer))
        act.update({"workout_type": workout_type, "trainer": trainer, "gear_id": gear})
        if trainer:
            act["map"]["summary_polyline"] = None
        self.raw.append((start, act, cads, set(tags)))
        return act

    def _splits(self, dists: list[float], shape: _Shape) -> tuple[list[dict[str, Any]], list[float], list[float]]:
        """Per-km splits, their hidden cadences and the altitude after each."""
        rng, n = self.rng, len(dists)
        alt = self.place.altitude + rng.uniform(-3, 3)
        splits: list[dict[str, Any]] = []
        cads: list[float] = []
        alts = [alt]
        for i, d in enumerate(dists):
            last = i == n - 1 or (i == n - 2 and dists[-1] < 500)
            split, c = self._split(i, n, d, last, shape)
            alt += split["elevation_difference"]
            alts.append(alt)
            splits.append(split)
            cads.append(round(c, 1))
        return splits, cads, alts

    def _split(self, i: int, n: int, d: float, last: bool, s: _Shape) -> tuple[dict[str, Any], float]:
        """Split `i` of `n` (`d` metres) and its cadence; the random draws keep their order."""
        rng = self.rng
        frac = (i + 0.5) / n
        p = s.pace * (1 + rng.uniform(-0.015, 0.015))
        c = s.cadence * (1 + rng.uniform(-0.008, 0.008))
        h = s.hr + s.hr_drift * frac + rng.uniform(-1.5, 1.5)
        if frac > 2 / 3:
            weight = 0.75 + 1.5 * (frac - 2 / 3)
            p *= 1 + s.fade * weight
            c *= 1 - s.cadence_fade * weight
        if s.fast_start and i == 0:
            p *= 0.98
        if s.warmup and i == 0 and n > 1:
            p *= rng.uniform(1.09, 1.13)
            c *= 0.985
            h -= 12
        if s.cooldown and last and n > 2:
            p *= rng.uniform(1.07, 1.09)
            h -= 6
        moving = max(1, round(p * d / 1000))
        stop = rng.choice((0, 0, 0, 0, 5, 12)) if not s.trainer else 0
        elev = round(d / 1000 * rng.uniform(-s.elevation, s.elevation), 1)
        speed = d / moving
        split = {
            "distance": d,
            "elapsed_time": moving + stop,
            "elevation_difference": elev,
            "moving_time": moving,
            "split": i + 1,
            "average_speed": round(speed, 2),
            "average_grade_adjusted_speed": round(speed * (1 + elev / max(d, 1) * 0.5), 2),
            "average_heartrate": round(h, 1),
            "pace_zone": _pace_zone(p),
        }
        return split, c

    def _totals(
        self, splits: list[dict[str, Any]], cads: list[float], alts: list[float], trainer: bool
    ) -> dict[str, Any]:
        """The activity's totals, averages, place and single lap, from its splits."""
        rng = self.rng
        metres = sum(s["distance"] for s in splits)
        moving_total = sum(s["moving_time"] for s in splits)
        elapsed = sum(s["elapsed_time"] for s in splits) + rng.randint(0, 90)
        weights = [s["moving_time"] for s in splits]
        avg_cad = round(sum(c * w for c, w in zip(cads, weights, strict=True)) / moving_total, 1)
        avg_hr = round(sum(s["average_heartrate"] * w for s, w in zip(splits, weights, strict=True)) / moving_total, 1)
        gain = round(sum(max(0.0, s["elevation_difference"]) for s in splits), 1)
        latlng = [] if trainer else [round(c + rng.uniform(-0.01, 0.01), 6) for c in (self.place.lat, self.place.lng)]
        speed = round(metres / moving_total, 3)
        return {
            "distance": metres,
            "moving_time": moving_total,
            "elapsed_time": elapsed,
            "total_elevation_gain": gain,
            "elev_high": round(max(alts), 1),
            "elev_low": round(min(alts), 1),
            "start_latlng": latlng,
            "end_latlng": list(latlng),
            "average_speed": speed,
            "max_speed": round(max(s["average_speed"] for s in splits) * 1.12, 2),
            "average_cadence": avg_cad,
            "has_heartrate": True,
            "average_heartrate": avg_hr,
            "max_heartrate": float(round(max(s["average_heartrate"] for s in splits) + rng.uniform(4, 9))),
            "calories": round(metres / 1000 * 62, 1),
            "splits_metric": splits,
            "laps": [
                {
                    "id": 0,
                    "name": "Lap 1",
                    "lap_index": 1,
                    "split": 1,
                    "distance": metres,
                    "elapsed_time": elapsed,
                    "moving_time": moving_total,
                    "average_speed": speed,
                    "average_cadence": avg_cad,
                    "average_heartrate": avg_hr,
                    "total_elevation_gain": gain,
                }
            ],
        }

    def session(
        self,
        day: date,
        at: time,
        sport_type: str,
        minutes: float,
        name: str,
        description: str | None = None,
        hr: float = 105.0,
        tags: Iterable[str] = (),
    ) -> dict[str, Any]:
        """A session without distance: strength, yoga, a workout."""
        start, act = self._base(day, at, sport_type, name, description)
        moving = int(minutes * 60 + self.rng.randint(-60, 60))
        act.update(
            {
                "moving_time": moving,
                "elapsed_time": moving + self.rng.randint(0, 120),
                "has_heartrate": True,
                "average_heartrate": round(hr + self.rng.uniform(-4, 4), 1),
                "max_heartrate": float(round(hr + self.rng.uniform(18, 30))),
                "calories": round(moving / 60 * 5.5, 1),
                "map": {"id": "", "summary_polyline": None, "resource_state": 2},
                "splits_metric": None,
                "laps": [],
            }
        )
        self.raw.append((start, act, None, set(tags)))
        return act

    def finish(self, world_profiles: dict[int, list[float]]) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
        """Assign ids in start order; returns the activities and ids by tag."""
        self.raw.sort(key=lambda item: item[0])
        base = 12_000_000_000 + self.athlete_id * 100_000
        tagged: dict[str, list[int]] = {}
        activities = []
        for i, (_, act, cads, tags) in enumerate(self.raw):
            act_id = base + i * 3 + 1
            act["id"] = act_id
            act["external_id"] = f"garmin_ping_{act_id}.fit"
            act["upload_id"] = act_id + 7_000_000_000
            act["upload_id_str"] = str(act["upload_id"])
            act["map"]["id"] = f"a{act_id}"
            act["embed_token"] = f"{act_id:x}"
            for lap in act.get("laps") or []:
                lap["id"] = act_id * 10 + lap["lap_index"]
            if cads:
                world_profiles[act_id] = cads
            for tag in tags:
                tagged.setdefault(tag, []).append(act_id)
            activities.append(act)
        return activities, tagged


def persona_start(persona: str, athlete_id: int, today: date, seed: int, place: Place) -> tuple[Builder, date]:
    """A demo persona's builder (its random stream depends on the seed and the athlete only)
    and the Monday of the last complete week, where the persona's pattern is."""
    builder = Builder(athlete_id, PERSONA_ZONES[persona], random.Random(seed * 1000 + athlete_id), place)
    return builder, last_complete_week(today)[0]
