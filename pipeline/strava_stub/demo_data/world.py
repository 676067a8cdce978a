"""`World`: the athletes the stub serves, their lookups, changes and streams."""

from __future__ import annotations

import copy
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pipeline.strava_stub.demo_data.athlete import DemoAthlete
from pipeline.strava_stub.demo_data.builder import Builder, Place
from pipeline.strava_stub.demo_data.constants import DEFAULT_STREAM_KEYS, legacy_type
from pipeline.strava_stub.demo_data.dates import iso, last_complete_week, strava_zone
from pipeline.strava_stub.demo_data.streams import all_streams, pick_streams


@dataclass
class World:
    """All demo athletes; the server reads it and tests change it (webhook scenarios)."""

    today: date
    seed: int
    athletes: dict[int, DemoAthlete]
    # Hidden per-split cadence (strides/min) by activity id: Strava splits carry no cadence,
    # but the streams must show the persona's pattern within the run.
    cadence_profiles: dict[int, list[float]] = field(default_factory=dict, repr=False)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)
    _stream_cache: dict[tuple, tuple] = field(default_factory=dict, repr=False, compare=False)

    # --- lookups -----------------------------------------------------------------
    def athlete(self, athlete_id: int) -> DemoAthlete:
        return self.athletes[athlete_id]

    def by_persona(self, persona: str) -> DemoAthlete:
        for athlete in self.athletes.values():
            if athlete.persona == persona:
                return athlete
        raise KeyError(persona)

    @property
    def bad_records(self) -> dict[str, int]:
        """All deliberately bad records: kind -> activity id."""
        out: dict[str, int] = {}
        for athlete in self.athletes.values():
            out.update(athlete.bad_records)
        return out

    def find(self, activity_id: int) -> tuple[DemoAthlete, dict[str, Any]] | None:
        """The owner and the activity with this id, or None."""
        with self.lock:
            for athlete in self.athletes.values():
                for activity in athlete.activities:
                    if activity["id"] == activity_id:
                        return athlete, activity
        return None

    def activity(self, activity_id: int) -> dict[str, Any] | None:
        found = self.find(activity_id)
        return found[1] if found else None

    def week(self, athlete_id: int | None = None) -> tuple[date, date]:
        """The last complete ISO week (Monday, Sunday): before `today`, or before that
        athlete's local date (they differ around midnight UTC on Mondays)."""
        athlete = self.athletes.get(athlete_id) if athlete_id is not None else None
        return athlete.week() if athlete is not None and athlete.today else last_complete_week(self.today)

    # --- changes (webhook scenarios) -----------------------------------------------
    def next_activity_id(self) -> int:
        with self.lock:
            ids = [a["id"] for ath in self.athletes.values() for a in ath.activities]
            return max(ids, default=12_000_000_000) + 1

    def new_run(
        self,
        athlete_id: int,
        start_local: datetime,
        distance_km: float,
        pace_s_per_km: float = 330.0,
        **options: Any,
    ) -> dict[str, Any]:
        """A realistic run (splits, HR, cadence) for `athlete_id`, not yet added."""
        athlete = self.athletes[athlete_id]
        home = next((a for a in reversed(athlete.activities) if a.get("start_latlng")), None)
        place = Place(*home["start_latlng"], float(home.get("elev_low") or 20.0)) if home else None
        builder = Builder(
            athlete_id,
            athlete.timezone,
            random.Random(
                self.seed * 1_000_003
                + start_local.toordinal() * 86_400
                + start_local.hour * 3600
                + start_local.minute * 60
            ),
            place,
        )
        builder.run(start_local.date(), start_local.time(), distance_km, pace_s_per_km, **options)
        activity, cadence = builder.raw[0][1], builder.raw[0][2]
        activity["id"] = self.next_activity_id()
        activity["map"]["id"] = f"a{activity['id']}"
        activity["external_id"] = f"demo-{activity['id']}.fit"
        activity["upload_id"] = activity["id"] + 7_000_000_000
        activity["upload_id_str"] = str(activity["upload_id"])
        if cadence:
            self.cadence_profiles[activity["id"]] = cadence
        return activity

    def add_activity(self, athlete_id: int, activity: dict[str, Any]) -> dict[str, Any]:
        """Add an activity (id assigned if missing); returns the stored DetailedActivity."""
        with self.lock:
            athlete = self.athletes[athlete_id]
            stored = copy.deepcopy(activity)
            stored.setdefault("id", self.next_activity_id())
            if self.find(stored["id"]) is not None:
                raise ValueError(f"activity {stored['id']} already exists")
            stored["athlete"] = {"id": athlete_id, "resource_state": 1}
            stored.setdefault("resource_state", 3)
            stored.setdefault("sport_type", stored.get("type", "Run"))
            stored.setdefault("type", legacy_type(stored["sport_type"]))
            stored.setdefault("name", "Run")
            stored.setdefault("distance", 0.0)
            stored.setdefault("moving_time", 0)
            stored.setdefault("elapsed_time", stored["moving_time"])
            stored.setdefault("description", None)
            stored.setdefault("gear_id", None)
            stored.setdefault("trainer", False)
            stored.setdefault("manual", False)
            stored.setdefault("private", False)
            if "start_date" not in stored:
                stored["start_date"] = iso(datetime.now(UTC).replace(microsecond=0))
            if "start_date_local" not in stored or "timezone" not in stored:
                start = datetime.strptime(stored["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                stored.setdefault("start_date_local", iso(start.astimezone(ZoneInfo(athlete.timezone))))
                stored.setdefault("timezone", strava_zone(athlete.timezone, start))
            athlete.activities.append(stored)
            return stored

    def update_activity(self, athlete_id: int, activity_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Change fields of an activity in place (all listed copies); returns it."""
        with self.lock:
            athlete = self.athletes[athlete_id]
            hits = [a for a in athlete.activities if a["id"] == activity_id]
            if not hits:
                raise KeyError(activity_id)
            for activity in {id(a): a for a in hits}.values():
                activity.update(copy.deepcopy(changes))
            return hits[0]

    def delete_activity(self, athlete_id: int, activity_id: int) -> bool:
        """Remove an activity (every copy); True if it existed."""
        with self.lock:
            athlete = self.athletes[athlete_id]
            before = len(athlete.activities)
            athlete.activities[:] = [a for a in athlete.activities if a["id"] != activity_id]
            self.cadence_profiles.pop(activity_id, None)
            return len(athlete.activities) != before

    # --- streams -------------------------------------------------------------------
    def streams(self, activity_id: int, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Strava streams keyed by type (as with key_by_type=true), generated on demand.

        Returns the requested keys the activity has, plus "distance" (the series type)
        when it has a distance, like Strava. Unknown activity: KeyError.
        """
        found = self.find(activity_id)
        if found is None:
            raise KeyError(activity_id)
        return self.streams_of(found[1], keys)

    def streams_of(self, activity: dict[str, Any], keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Streams of an activity already in hand (the server's path: no lookup).

        Generated streams are cached per activity version; treat the lists as read-only.
        """
        fingerprint = (
            activity["id"],
            activity.get("distance"),
            activity.get("moving_time"),
            activity.get("average_cadence"),
            activity.get("average_heartrate"),
            len(activity.get("splits_metric") or []),
        )
        with self.lock:
            cached = self._stream_cache.get(fingerprint)
        if cached is None:
            cached = all_streams(activity, self.cadence_profiles.get(activity["id"]))
            with self.lock:
                if len(self._stream_cache) >= 256:
                    self._stream_cache.pop(next(iter(self._stream_cache)))
                self._stream_cache[fingerprint] = cached
        return pick_streams(cached, list(DEFAULT_STREAM_KEYS if keys is None else keys))
