"""Deterministic demo athletes shaped like Strava's JSON, dated relative to today.

Four personas, each built so that the last complete ISO week (Monday to Sunday, athlete local
time) and the weeks before it carry one training pattern from ../shared/evidence.md:

- steady (1001, Europe/London): the control. No rule fires in the last complete week, and
  nothing at watch level or above in any week of her history.
- spiker (1002, America/New_York): single-run spikes, runs the day after big runs, one
  worn-out 2-year-old pair of shoes, road only, no strength work for 6 weeks.
- fader (1003, Australia/Sydney): low cadence, form fading late in runs, no warm-ups,
  runs every day at the same load, many runs without gear, little strength work.
- niggle (1004, Europe/Berlin): pain notes, back after a 3-week break, a spike vs the
  weeks since the break (and a big weekly change), treadmill runs and no soft surfaces.

Deliberately bad records (for the quarantine demo), listed in `DemoAthlete.bad_records`:
- "gps_glitch" (spiker): a 212 km "Run" in 50 minutes, two weeks before the last complete week.
- "duplicate" (spiker): one activity id listed twice in `activities`, so the list endpoint
  returns it twice. The copies are adjacent in sort order, placed so that a full sync
  (after=0, oldest first, 200 a page) gets one copy at the end of page 1 and the other at the
  start of page 2. Both copies are the same dict.
- "impossible_cadence" (fader): average_cadence 140 strides/min (280 spm) in the week
  before the last complete week; its cadence stream agrees.

`DemoAthlete.expected` says what each persona is built to show in its last complete week:
"rules" (rule ids that fire, at any severity incl. info), "factors" (their factors),
"absent" (rule ids that must not fire) and "shadowed" (conditions the data also meets but the
rule catalogue does not raise, e.g. strength.low_frequency is not raised when
strength.no_strength_14d already is). tests/stub/stub_support.py reads the thresholds of
../shared/evidence.md independently and checks every persona against it.

Everything is a pure function of (`today`, `seed`): same inputs, identical world.
Streams are generated on demand from the activity's splits, so they agree with it.
"""

from __future__ import annotations

import copy
import math
import random
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DEMO_CLIENT_ID = 90210
DEMO_CLIENT_SECRET = "demo-client-secret"
PERSONA_ZONES = {
    "steady": "Europe/London",
    "spiker": "America/New_York",
    "fader": "Australia/Sydney",
    "niggle": "Europe/Berlin",
}

FACTORS = ("shoes", "posture", "surface", "distance", "preparation", "strength", "injury")
RULE_IDS = frozenset(
    {
        "distance.single_run_spike",
        "distance.weekly_change",
        "distance.recovery_after_big_run",
        "distance.monotony",
        "shoes.mileage",
        "shoes.age",
        "shoes.rotation",
        "shoes.unknown_gear",
        "posture.cadence",
        "posture.form_fading",
        "surface.no_soft_surface",
        "preparation.warmup",
        "strength.no_strength_14d",
        "strength.low_frequency",
        "injury.pain_notes",
        "injury.return_after_break",
    }
)
PAIN_WORDS = ("back", "pain", "sore", "hurt", "injury", "physio", "twinge", "stiff")
DUPLICATE_PAGE_INDEX = 199  # the duplicate's place in the oldest-first list of its athlete
SOFT_SURFACE_WORDS = ("trail", "grass", "track")
RUN_SPORTS = frozenset({"Run", "TrailRun", "VirtualRun"})
STRENGTH_SPORTS = frozenset({"WeightTraining", "Crossfit", "Pilates", "Yoga"})
# a Workout (Strava's catch-all) is strength work only when its text says so (evidence.md)
STRENGTH_WORKOUT_WORDS = ("strength", "core", "gym", "weights", "circuit", "bodyweight", "kettlebell")
DEFAULT_STREAM_KEYS = ("time", "distance", "velocity_smooth", "heartrate", "cadence", "altitude")
ALL_STREAM_KEYS = (*DEFAULT_STREAM_KEYS, "latlng", "moving", "grade_smooth")

# Keys of DetailedActivity that SummaryActivity (the list endpoint) does not carry.
DETAIL_ONLY_KEYS = frozenset(
    {
        "description",
        "splits_metric",
        "splits_standard",
        "laps",
        "segment_efforts",
        "best_efforts",
        "gear",
        "calories",
        "device_name",
        "embed_token",
        "photos",
        "perceived_exertion",
        "prefer_perceived_exertion",
    }
)


def last_complete_week(today: date) -> tuple[date, date]:
    """Monday and Sunday of the last ISO week that ended before `today`."""
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


def summary_of(activity: dict[str, Any]) -> dict[str, Any]:
    """SummaryActivity JSON (what the list endpoint returns) from a DetailedActivity."""
    out = {k: v for k, v in activity.items() if k not in DETAIL_ONLY_KEYS}
    out["resource_state"] = 2
    return out


def strava_zone(tz: str, at: datetime) -> str:
    """Strava's zone label, e.g. "(GMT+01:00) Europe/Berlin", at the given instant."""
    offset = at.astimezone(ZoneInfo(tz)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"(GMT{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}) {tz}"


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class DemoAthlete:
    """One demo athlete: Strava JSON plus what the persona is built to show."""

    athlete_id: int
    persona: str
    email: str
    timezone: str
    refresh_token: str
    auth_code: str
    profile: dict[str, Any]
    gear: dict[str, dict[str, Any]]
    activities: list[dict[str, Any]]
    expected: dict[str, set[str]] = field(default_factory=dict)
    bad_records: dict[str, int] = field(default_factory=dict)
    today: date | None = None  # the athlete's local date the data was built around

    def week(self) -> tuple[date, date]:
        """The athlete's last complete local ISO week (Monday, Sunday): where the pattern is."""
        if self.today is None:
            raise ValueError("this athlete was not built around a date")
        return last_complete_week(self.today)

    @property
    def summary(self) -> dict[str, Any]:
        """SummaryAthlete JSON, as sent with an authorization_code token answer."""
        keep = (
            "id",
            "username",
            "firstname",
            "lastname",
            "bio",
            "city",
            "state",
            "country",
            "sex",
            "premium",
            "summit",
            "created_at",
            "updated_at",
            "badge_type_id",
            "weight",
            "profile_medium",
            "profile",
            "friend",
            "follower",
        )
        out = {k: self.profile.get(k) for k in keep}
        out["resource_state"] = 2
        return out


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
        place = _Place(*home["start_latlng"], float(home.get("elev_low") or 20.0)) if home else None
        builder = _Builder(
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
            stored.setdefault("type", _legacy_type(stored["sport_type"]))
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
                stored["start_date"] = _iso(datetime.now(UTC).replace(microsecond=0))
            if "start_date_local" not in stored or "timezone" not in stored:
                start = datetime.strptime(stored["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
                stored.setdefault("start_date_local", _iso(start.astimezone(ZoneInfo(athlete.timezone))))
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
            cached = _all_streams(activity, self.cadence_profiles.get(activity["id"]))
            with self.lock:
                if len(self._stream_cache) >= 256:
                    self._stream_cache.pop(next(iter(self._stream_cache)))
                self._stream_cache[fingerprint] = cached
        return _pick_streams(cached, list(DEFAULT_STREAM_KEYS if keys is None else keys))


# --- streams -------------------------------------------------------------------------


def _segments(
    activity: dict[str, Any], cadence: list[float] | None
) -> list[tuple[int, float, float | None, float | None, float]]:
    """(moving s, metres, cadence, heart rate, elevation change) per split."""
    splits = activity.get("splits_metric") or []
    hr_avg = activity.get("average_heartrate")
    cad_avg = activity.get("average_cadence")
    if splits and sum(int(s.get("moving_time") or 0) for s in splits) > 0:
        out = []
        for i, s in enumerate(splits):
            cad = cadence[i] if cadence and i < len(cadence) else cad_avg
            out.append(
                (
                    int(s.get("moving_time") or 0),
                    float(s.get("distance") or 0.0),
                    cad,
                    s.get("average_heartrate", hr_avg),
                    float(s.get("elevation_difference") or 0.0),
                )
            )
        return [seg for seg in out if seg[0] > 0]
    moving = int(activity.get("moving_time") or 0)
    return [(moving, float(activity.get("distance") or 0.0), cad_avg, hr_avg, 0.0)] if moving > 0 else []


def _all_streams(activity: dict[str, Any], cadence: list[float] | None) -> tuple[dict[str, list[Any]], set[str], str]:
    """Every stream the activity has: (data by key, available keys, series type)."""
    rng = random.Random(int(activity["id"]) * 31 + 7)
    segments = _segments(activity, cadence)
    total_t = sum(s[0] for s in segments)
    total_d = sum(s[1] for s in segments)
    if total_t <= 0:
        return {}, set(), "time"
    step = min(5, max(1, math.ceil(total_t / 1800)))
    times = [*list(range(0, total_t, step)), total_t]
    has_distance = total_d > 0
    has_cadence = activity.get("average_cadence") is not None
    has_hr = bool(activity.get("has_heartrate", activity.get("average_heartrate") is not None))
    has_gps = bool(activity.get("start_latlng"))
    base_alt = float(activity.get("elev_low") or 20.0)
    data: dict[str, list[Any]] = {k: [] for k in ALL_STREAM_KEYS}
    seg_i, seg_start_t, seg_start_d, seg_start_alt = 0, 0, 0.0, base_alt
    for t in times:
        while seg_i < len(segments) - 1 and t > seg_start_t + segments[seg_i][0]:
            seg_start_t += segments[seg_i][0]
            seg_start_d += segments[seg_i][1]
            seg_start_alt += segments[seg_i][4]
            seg_i += 1
        seg_t, seg_d, seg_cad, seg_hr, seg_elev = segments[seg_i]
        within = min(1.0, (t - seg_start_t) / seg_t)
        speed = seg_d / seg_t
        dist = seg_start_d + seg_d * within
        data["time"].append(t)
        data["distance"].append(round(dist, 1))
        data["velocity_smooth"].append(round(max(0.0, speed * (1 + rng.uniform(-0.03, 0.03))), 2) if t else 0.0)
        data["cadence"].append(round(seg_cad + rng.uniform(-1.5, 1.5)) if seg_cad else 0)
        data["heartrate"].append(round(seg_hr + rng.uniform(-2.0, 2.0)) if seg_hr else 0)
        data["altitude"].append(round(seg_start_alt + seg_elev * within, 1))
        data["moving"].append(True)
        data["grade_smooth"].append(round(100 * seg_elev / seg_d, 1) if seg_d else 0.0)
        if has_gps:
            lat0, lng0 = activity["start_latlng"]
            radius = max(total_d, 1.0) / (2 * math.pi)
            angle = 2 * math.pi * dist / max(total_d, 1.0)
            dlat = radius * (math.cos(angle) - 1) / 111_320
            dlng = radius * math.sin(angle) / (111_320 * math.cos(math.radians(lat0)))
            data["latlng"].append([round(lat0 + dlat, 6), round(lng0 + dlng, 6)])
    available = {"time", "moving"}
    if has_distance:
        available |= {"distance", "velocity_smooth", "altitude", "grade_smooth"}
    if has_cadence:
        available.add("cadence")
    if has_hr:
        available.add("heartrate")
    if has_gps:
        available.add("latlng")
    return data, available, "distance" if has_distance else "time"


def _pick_streams(streams: tuple[dict[str, list[Any]], set[str], str], keys: list[str]) -> dict[str, dict[str, Any]]:
    """The requested streams the activity has, plus distance (the series type), like Strava."""
    data, available, series = streams
    chosen = [k for k in keys if k in available]
    if "distance" in available and "distance" not in chosen:
        chosen.append("distance")
    size = len(data.get("time", []))
    return {k: {"data": data[k], "series_type": series, "original_size": size, "resolution": "high"} for k in chosen}


# --- building activities ---------------------------------------------------------------


def _legacy_type(sport_type: str) -> str:
    return {"TrailRun": "Run"}.get(sport_type, sport_type)


def _pace_zone(pace: float) -> int:
    for zone, limit in ((1, 390), (2, 345), (3, 315), (4, 285)):
        if pace > limit:
            return zone
    return 5


@dataclass
class _Place:
    lat: float
    lng: float
    altitude: float


class _Builder:
    """Accumulates one athlete's activities in local time; ids are assigned at the end."""

    def __init__(self, athlete_id: int, tz: str, rng: random.Random, place: _Place | None = None) -> None:
        self.athlete_id = athlete_id
        self.tz = tz
        self.zone = ZoneInfo(tz)
        self.rng = rng
        self.place = place or _Place(51.5, -0.12, 20.0)
        # (start utc, activity, cadence profile, tags)
        self.raw: list[tuple[datetime, dict[str, Any], list[float] | None, set[str]]] = []

    def _base(
        self, day: date, at: time, sport_type: str, name: str, description: str | None
    ) -> tuple[datetime, dict[str, Any]]:
        local = datetime.combine(day, at)
        start = local.replace(tzinfo=self.zone).astimezone(UTC)
        offset = local.replace(tzinfo=self.zone).utcoffset() or timedelta(0)
        activity: dict[str, Any] = {
            "id": 0,
            "resource_state": 3,
            "external_id": "",
            "upload_id": 0,
            "athlete": {"id": self.athlete_id, "resource_state": 1},
            "name": name,
            "description": description or None,
            "distance": 0.0,
            "moving_time": 0,
            "elapsed_time": 0,
            "total_elevation_gain": 0.0,
            "type": _legacy_type(sport_type),
            "sport_type": sport_type,
            "workout_type": None,
            "start_date": _iso(start),
            "start_date_local": _iso(local),
            "timezone": strava_zone(self.tz, start),
            "utc_offset": float(offset.total_seconds()),
            "location_city": None,
            "location_state": None,
            "location_country": None,
            "achievement_count": 0,
            "kudos_count": self.rng.randint(0, 14),
            "comment_count": self.rng.randint(0, 2),
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
        rng = self.rng
        start, act = self._base(day, at, sport_type, name, description)
        metres = round(km * 1000, 1)
        dists = [1000.0] * int(metres // 1000)
        rest = round(metres - 1000 * len(dists), 1)
        if rest >= 50 or not dists:
            dists.append(rest)
        metres = sum(dists)
        n = len(dists)
        splits: list[dict[str, Any]] = []
        cads: list[float] = []
        alt = self.place.altitude + rng.uniform(-3, 3)
        alts = [alt]
        for i, d in enumerate(dists):
            frac = (i + 0.5) / n
            p = pace * (1 + rng.uniform(-0.015, 0.015))
            c = cadence * (1 + rng.uniform(-0.008, 0.008))
            h = hr + hr_drift * frac + rng.uniform(-1.5, 1.5)
            if frac > 2 / 3:
                weight = 0.75 + 1.5 * (frac - 2 / 3)
                p *= 1 + fade * weight
                c *= 1 - cadence_fade * weight
            if fast_start and i == 0:
                p *= 0.98
            if warmup and i == 0 and n > 1:
                p *= rng.uniform(1.09, 1.13)
                c *= 0.985
                h -= 12
            last = i == n - 1 or (i == n - 2 and dists[-1] < 500)
            if cooldown and last and n > 2:
                p *= rng.uniform(1.07, 1.09)
                h -= 6
            moving = max(1, round(p * d / 1000))
            stop = rng.choice((0, 0, 0, 0, 5, 12)) if not trainer else 0
            elev = round(d / 1000 * rng.uniform(-elevation, elevation), 1)
            alt += elev
            alts.append(alt)
            speed = d / moving
            splits.append(
                {
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
            )
            cads.append(round(c, 1))
        moving_total = sum(s["moving_time"] for s in splits)
        elapsed = sum(s["elapsed_time"] for s in splits) + rng.randint(0, 90)
        weights = [s["moving_time"] for s in splits]
        avg_cad = sum(c * w for c, w in zip(cads, weights, strict=True)) / moving_total
        avg_hr = sum(s["average_heartrate"] * w for s, w in zip(splits, weights, strict=True)) / moving_total
        gain = sum(max(0.0, s["elevation_difference"]) for s in splits)
        latlng = (
            []
            if trainer
            else [
                round(self.place.lat + rng.uniform(-0.01, 0.01), 6),
                round(self.place.lng + rng.uniform(-0.01, 0.01), 6),
            ]
        )
        act.update(
            {
                "distance": metres,
                "moving_time": moving_total,
                "elapsed_time": elapsed,
                "total_elevation_gain": round(gain, 1),
                "elev_high": round(max(alts), 1),
                "elev_low": round(min(alts), 1),
                "workout_type": workout_type,
                "trainer": trainer,
                "gear_id": gear,
                "start_latlng": latlng,
                "end_latlng": list(latlng),
                "average_speed": round(metres / moving_total, 3),
                "max_speed": round(max(s["average_speed"] for s in splits) * 1.12, 2),
                "average_cadence": round(avg_cad, 1),
                "has_heartrate": True,
                "average_heartrate": round(avg_hr, 1),
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
                        "average_speed": round(metres / moving_total, 3),
                        "average_cadence": round(avg_cad, 1),
                        "average_heartrate": round(avg_hr, 1),
                        "total_elevation_gain": round(gain, 1),
                    }
                ],
            }
        )
        if trainer:
            act["map"]["summary_polyline"] = None
        self.raw.append((start, act, cads, set(tags)))
        return act

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


def _days(start: date, stop: date) -> Iterator[date]:
    """Days from start up to, not including, stop."""
    day = start
    while day < stop:
        yield day
        day += timedelta(days=1)


def _weeks_back(day: date, week0: date) -> int:
    """0 for the last complete week, 1 for the week before, -1 for the current week."""
    monday = day - timedelta(days=day.weekday())
    return (week0 - monday).days // 7


# --- gear and profile ------------------------------------------------------------------


@dataclass
class _Shoe:
    gear_id: str
    brand: str
    model: str
    nickname: str = ""
    primary: bool = False
    retired: bool = False
    extra_m: float = 0.0  # distance logged before the history starts (Strava keeps the total)


def _gear_json(shoes: list[_Shoe], activities: list[dict[str, Any]], exclude: set[int]) -> dict[str, dict[str, Any]]:
    totals: dict[str, float] = {s.gear_id: s.extra_m for s in shoes}
    for act in activities:
        if act.get("gear_id") in totals and act["id"] not in exclude:
            totals[act["gear_id"]] += float(act["distance"])
    gear = {}
    for shoe in shoes:
        metres = round(totals[shoe.gear_id], 1)
        gear[shoe.gear_id] = {
            "id": shoe.gear_id,
            "primary": shoe.primary,
            "name": shoe.nickname or f"{shoe.brand} {shoe.model}",
            "nickname": shoe.nickname or None,
            "resource_state": 3,
            "retired": shoe.retired,
            "distance": metres,
            "converted_distance": round(metres / 1000, 1),
            "brand_name": shoe.brand,
            "model_name": shoe.model,
            "description": None,
            "notification_distance": 0,
        }
    return gear


def _shoe_summaries(gear: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("id", "primary", "name", "nickname", "retired", "distance", "converted_distance")
    return [{**{k: g[k] for k in keep}, "resource_state": 2} for g in gear.values()]


def _profile(
    athlete_id: int,
    first: str,
    last: str,
    city: str,
    state: str,
    country: str,
    sex: str,
    weight: float,
    tz: str,
    today: date,
    gear: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    created = datetime.combine(today - timedelta(days=365 * 5 + athlete_id % 97), time(9, 0), tzinfo=UTC)
    updated = datetime.combine(today - timedelta(days=3), time(9, 0), tzinfo=UTC)
    return {
        "id": athlete_id,
        "username": f"{first}{last}".lower().replace(" ", "")[:20],
        "resource_state": 3,
        "firstname": first,
        "lastname": last,
        "bio": "",
        "city": city,
        "state": state,
        "country": country,
        "sex": sex,
        "premium": False,
        "summit": False,
        "created_at": _iso(created),
        "updated_at": _iso(updated),
        "badge_type_id": 0,
        "weight": weight,
        "profile_medium": "avatar/athlete/medium.png",
        "profile": "avatar/athlete/large.png",
        "friend": None,
        "follower": None,
        "follower_count": 12 + athlete_id % 30,
        "friend_count": 15 + athlete_id % 25,
        "mutual_friend_count": 0,
        "athlete_type": 1,
        "date_preference": "%m/%d/%Y",
        "measurement_preference": "meters",
        "clubs": [],
        "ftp": None,
        "bikes": [],
        "shoes": _shoe_summaries(gear),
        # Not in Strava's documented DetailedAthlete; kept so a registration can default the zone.
        "timezone": strava_zone(tz, datetime.combine(today, time(12, 0), tzinfo=UTC)),
    }


def _token(persona: str, seed: int, kind: str) -> str:
    rng = random.Random(f"{persona}-{seed}-{kind}")
    return f"demo-{kind}-{persona}-" + "".join(rng.choice("0123456789abcdef") for _ in range(24))


def _athlete(
    *,
    athlete_id: int,
    persona: str,
    tz: str,
    seed: int,
    today: date,
    builder: _Builder,
    shoes: list[_Shoe],
    person: tuple[str, str, str, str, str, str, float],
    rules: set[str],
    shadowed: set[str] | None = None,
    bad_tags: tuple[str, ...],
    duplicate_tag: str | None,
    profiles: dict[int, list[float]],
) -> DemoAthlete:
    shadowed = set(shadowed or ())
    activities, tagged = builder.finish(profiles)
    bad = {tag: tagged[tag][0] for tag in bad_tags}
    if duplicate_tag:
        dup_id = tagged[duplicate_tag][0]
        index = next(i for i, a in enumerate(activities) if a["id"] == dup_id)
        activities.insert(index + 1, activities[index])  # the same object: Strava lists it twice
        bad["duplicate"] = dup_id
    gear = _gear_json(shoes, activities, exclude=set(bad.values()) - {bad.get("duplicate")})
    summaries = {g["id"]: g for g in _shoe_summaries(gear)}
    for activity in activities:
        if activity.get("gear_id") in summaries:
            activity["gear"] = dict(summaries[activity["gear_id"]])
    first, last, city, state, country, sex, weight = person
    factors = {rule.split(".")[0] for rule in rules}
    return DemoAthlete(
        athlete_id=athlete_id,
        persona=persona,
        email=f"{persona}@demo.backstride.local",
        timezone=tz,
        refresh_token=_token(persona, seed, "refresh"),
        auth_code=_token(persona, seed, "code"),
        profile=_profile(athlete_id, first, last, city, state, country, sex, weight, tz, today, gear),
        gear=gear,
        activities=activities,
        expected={
            "rules": set(rules),
            "factors": factors,
            "absent": set(RULE_IDS - rules - shadowed),
            "shadowed": shadowed,
        },
        bad_records=bad,
    )


# --- the personas ----------------------------------------------------------------------


def _steady(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """4-5 runs a week with warm-ups, a weekly trail run, strength and yoga, gentle long runs."""
    tz = PERSONA_ZONES["steady"]
    week0, _ = last_complete_week(today)
    b = _Builder(1001, tz, random.Random(seed * 1000 + 1001), _Place(51.465, -0.16, 18.0))
    r = b.rng
    long_cycle = (13.0, 13.8, 14.6, 15.4, 11.5)  # never more than 10% above the previous 30 days
    easy_names = ("Evening Run", "Commons loop", "Easy miles by the river", "Battersea Park run")
    easy_notes = (None, "Nice and easy.", "Chatty pace with Sam.", None, "Windy along the river but fine.")
    trail_names = ("Saturday trail loop", "Richmond Park trail", "Grass loops on the common", "Wimbledon trail run")
    # History opens with her longest run, so the first weeks show no spike against an empty past.
    b.run(week0 - timedelta(weeks=30, days=1), time(9, 0), max(long_cycle), 335, hr=147, gear="g1001r",
          name="Sunday long run", cadence=87.5, warmup=True, cooldown=True)  # fmt: skip
    for day in _days(week0 - timedelta(weeks=30), today):
        wk, dow = _weeks_back(day, week0), day.weekday()
        new_shoes = wk < 16
        road_a = "g1001a" if new_shoes else "g1001r"
        road_b = "g1001b" if new_shoes else "g1001r"
        common = {"cadence": r.uniform(86.5, 88.5), "warmup": True, "cooldown": True}
        if dow == 0 and wk % 3 == 0:
            b.session(day, time(12, 30), "Walk", 45, "Lunch walk")
        elif dow == 1:
            b.run(
                day,
                time(18, 30),
                r.uniform(7.6, 8.4),
                335,
                hr=142,
                gear=road_b,
                name=r.choice(easy_names),
                description=r.choice(easy_notes),
                **common,
            )
        elif dow == 2:
            b.session(day, time(7, 0), "WeightTraining", 35, "Strength circuit", "Squats, deadlifts, planks.")
            if wk % 2 == 0:
                b.run(day, time(18, 30), r.uniform(5.8, 6.2), 340, hr=140, gear=road_b, name="Recovery jog", **common)
        elif dow == 3:
            b.run(
                day,
                time(18, 30),
                r.uniform(8.8, 9.2),
                305,
                hr=161,
                gear=road_a,
                name="Thursday tempo",
                description="2 km easy, 5 km at tempo, 2 km easy.",
                **common,
            )
        elif dow == 4:
            b.session(day, time(7, 0), "Yoga", 45, "Morning yoga", "Hips and hamstrings flow.", hr=88)
        elif dow == 5:
            b.run(
                day,
                time(9, 0),
                r.uniform(6.8, 7.2),
                370,
                hr=146,
                gear="g1001t",
                sport_type="TrailRun",
                name=r.choice(trail_names),
                elevation=22.0,
                **common,
            )
        elif dow == 6:
            km = long_cycle[(100 - wk) % len(long_cycle)]
            b.run(
                day,
                time(9, 0),
                km,
                335,
                hr=147,
                gear=road_a,
                name="Sunday long run",
                description="Steady long run, fuelled at halfway. Coffee & cake after.",
                **common,
            )
    shoes = [
        _Shoe("g1001a", "Nike", "Pegasus 40", "Blue Pegs", primary=True),
        _Shoe("g1001b", "ASICS", "Novablast 4"),
        _Shoe("g1001t", "HOKA", "Speedgoat 5", "Mud shoes"),
        _Shoe("g1001r", "Brooks", "Ghost 14", retired=True),
    ]
    return _athlete(
        athlete_id=1001, persona="steady", tz=tz, seed=seed, today=today, builder=b, shoes=shoes,
        person=("Hannah", "Okafor", "London", "England", "United Kingdom", "F", 61.0),
        rules=set(), bad_tags=(), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip


def _spiker(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """Weekly runs for two years in one pair of shoes, then 4 a week with big spikes."""
    tz = PERSONA_ZONES["spiker"]
    week0, _ = last_complete_week(today)
    b = _Builder(1002, tz, random.Random(seed * 1000 + 1002), _Place(40.78, -73.97, 12.0))
    r = b.rng
    long_cycle = (9.0, 9.6, 10.0)
    names = ("Morning Run", "Evening Run", "Hudson River run", "Central Park loop", "Lunch Run", "Brooklyn Bridge loop")
    shoe = "g1002a"
    for day in _days(week0 - timedelta(weeks=116), today):
        wk, dow = _weeks_back(day, week0), day.weekday()
        common = {"cadence": r.uniform(84.0, 86.0), "gear": shoe}
        if wk >= 13:  # two years of one easy run a week
            if dow == 5:
                b.run(
                    day, time(8, 0), r.uniform(3.8, 4.4), 345, hr=148, name="Saturday Run", warmup=wk % 4 != 0, **common
                )
            continue
        if dow == 1:
            b.run(day, time(18, 0), r.uniform(5.8, 6.2), 340, hr=150, name=r.choice(names), warmup=True, **common)
        elif dow == 2 and wk >= 7 and wk % 2 == 1:
            b.session(day, time(7, 0), "Workout", 30, "Core circuit", "Planks and bridges.")
        elif dow == 2 and wk == 2:
            b.run(day, time(12, 30), 212.0, 14.15, hr=150, name="Lunch Run", tags=("gps_glitch",), **common)
        elif dow == 3:
            tags = ("duplicate",) if wk == 3 else ()
            b.run(
                day,
                time(18, 0),
                r.uniform(6.3, 6.7),
                330,
                hr=155,
                name=r.choice(names),
                warmup=True,
                tags=tags,
                **common,
            )
        elif dow == 5:
            if wk == 6:
                b.run(
                    day,
                    time(7, 30),
                    21.1,
                    320,
                    hr=171,
                    name="Half marathon!",
                    workout_type=1,
                    warmup=True,
                    description="First half marathon. Went out with the 1:55 group and hung on.",
                    **common,
                )
            elif wk == 0:
                b.run(
                    day,
                    time(8, 0),
                    14.5,
                    350,
                    hr=152,
                    name="Long run, longest in a while",
                    warmup=True,
                    description="Felt great, kept going past the usual turn.",
                    **common,
                )
            else:
                km = long_cycle[(100 - wk) % len(long_cycle)]
                b.run(day, time(8, 0), km, 350, hr=149, name="Saturday long run", warmup=True, **common)
        elif dow == 6:
            b.run(day, time(9, 0), r.uniform(4.8, 5.2), 355, hr=146, name="Sunday shakeout", **common)
    # Walks in the same shoes bring Strava's shoe total to about 850 km.
    runs_m = sum(a["distance"] for _, a, _, t in b.raw if a.get("gear_id") == shoe and "gps_glitch" not in t)
    walk_day = week0 - timedelta(days=7)
    while runs_m < 848_000:
        walk = b.run(walk_day, time(17, 30), 5.0, 660, cadence=56.0, hr=98, gear=shoe, sport_type="Walk",
                     name="Walk to the farmers market")  # fmt: skip
        runs_m += walk["distance"]
        walk_day -= timedelta(days=7)
    # Gearless Sunday walks early on, as many as put exactly 199 activities before the duplicate:
    # oldest first at 200 a page (a full sync), its two copies end page 1 and start page 2.
    dup_start = next(start for start, _, _, tags in b.raw if "duplicate" in tags)
    missing = DUPLICATE_PAGE_INDEX - sum(1 for start, _, _, _ in b.raw if start < dup_start)
    for k in range(max(0, missing)):
        day = week0 - timedelta(weeks=115 - k, days=1)
        b.session(day, time(15, 0), "Walk", 50, "Sunday walk", hr=92)
    shoes = [_Shoe("g1002a", "HOKA", "Clifton 8", primary=True)]
    rules = {
        "distance.single_run_spike",
        "distance.recovery_after_big_run",
        "shoes.mileage",
        "shoes.age",
        "shoes.rotation",
        "surface.no_soft_surface",
        "strength.no_strength_14d",
    }
    return _athlete(
        athlete_id=1002, persona="spiker", tz=tz, seed=seed, today=today, builder=b, shoes=shoes,
        person=("Diego", "Ramírez", "New York", "NY", "United States", "M", 78.0),
        rules=rules, shadowed={"strength.low_frequency"}, bad_tags=("gps_glitch",), duplicate_tag="duplicate",
        profiles=profiles,
    )  # fmt: skip


def _fader(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """Runs every day at dawn, low cadence that fades late, no warm-ups, little strength work."""
    tz = PERSONA_ZONES["fader"]
    week0, _ = last_complete_week(today)
    b = _Builder(1003, tz, random.Random(seed * 1000 + 1003), _Place(-33.87, 151.21, 25.0))
    r = b.rng
    names = ("Dawn run", "Harbour run", "Morning Run", "Bondi to Bronte", "Centennial Park loop")
    notes = (None, "Legs heavy at the end again.", None, "Humid one.", "Ran out of steam in the last few km.")
    fading = {"fade": 0.16, "cadence_fade": 0.085, "hr_drift": 12.0, "fast_start": True}
    for day in _days(week0 - timedelta(weeks=30), today):
        wk, dow = _weeks_back(day, week0), day.weekday()
        no_gear = day.toordinal() % 5 in (0, 2)
        road = None if no_gear else ("g1003b" if wk < 14 else "g1003a")
        cadence = r.uniform(78.2, 79.0)
        if wk == 1 and dow == 2:
            bad = b.run(day, time(6, 0), 8.3, 350, cadence=140.0, hr=150, gear=road, name="Morning Run",
                        tags=("impossible_cadence",), fade=0.16, hr_drift=12.0)  # fmt: skip
            b.raw[-1][2][:] = [140.0] * len(bad["splits_metric"])  # a sensor stuck at 140 strides/min
            bad["average_cadence"] = bad["laps"][0]["average_cadence"] = 140.0
            continue
        if dow == 1:
            b.run(
                day,
                time(6, 0),
                r.uniform(8.1, 8.5),
                345,
                cadence=cadence,
                hr=152,
                gear="g1003t",
                name="Tuesday track session",
                description="6 x 800 m at the track.",
                **fading,
            )
        elif dow == 6:
            b.run(
                day,
                time(6, 0),
                min(10.5, 9.6 + 0.1 * max(0, 8 - wk)) + r.uniform(-0.02, 0.02),  # the longest run of the week
                355,
                cadence=cadence,
                hr=150,
                gear=road,
                name="Sunday long-ish run",
                description=r.choice(notes),
                **fading,
            )
        else:
            name = r.choice(names)
            if wk == 0 and dow == 3:
                name = "<script>alert(1)</script> tempo"
            b.run(
                day,
                time(6, 0),
                r.uniform(8.1, 8.5),
                350,
                cadence=cadence,
                hr=150,
                gear=road,
                name=name,
                description=r.choice(notes),
                **fading,
            )
        if dow == 5 and wk % 2 == 0:
            b.session(day, time(16, 0), "Yoga", 40, "Yoga class", "Slow flow.", hr=85)
    shoes = [
        _Shoe("g1003a", "ASICS", "Gel-Kayano 29", retired=True),
        _Shoe("g1003b", "ASICS", "Gel-Kayano 30", primary=True),
        _Shoe("g1003t", "Saucony", "Endorphin Speed 3", "Speed day shoes"),
    ]
    rules = {
        "posture.cadence",
        "posture.form_fading",
        "preparation.warmup",
        "distance.monotony",
        "distance.recovery_after_big_run",
        "shoes.unknown_gear",
        "strength.low_frequency",
    }
    return _athlete(
        athlete_id=1003, persona="fader", tz=tz, seed=seed, today=today, builder=b, shoes=shoes,
        person=("Priya", "Natarajan", "Sydney", "NSW", "Australia", "F", 57.0),
        rules=rules, bad_tags=("impossible_cadence",), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip


def _niggle(today: date, seed: int, profiles: dict[int, list[float]]) -> DemoAthlete:
    """A tight back, three weeks off, then back to running too fast, with pain notes."""
    tz = PERSONA_ZONES["niggle"]
    week0, _ = last_complete_week(today)
    b = _Builder(1004, tz, random.Random(seed * 1000 + 1004), _Place(52.51, 13.40, 38.0))
    r = b.rng
    long_cycle = (11.0, 12.0, 13.0, 14.0)
    names = ("Feierabendlauf", "Evening Run", "Tiergarten loop", "Landwehrkanal run")
    # The return after the break: weeks back -> {weekday: (km, name, description)}
    comeback: dict[int, dict[int, tuple[float, str, str | None]]] = {
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
    for day in _days(week0 - timedelta(weeks=30), today):
        wk, dow = _weeks_back(day, week0), day.weekday()
        road = "g1004b" if wk < 14 else "g1004a"
        common = {"cadence": r.uniform(83.5, 85.0)}
        if wk >= 6:
            if dow == 0:
                b.run(
                    day,
                    time(18, 0),
                    r.uniform(6.8, 7.2),
                    330,
                    hr=148,
                    gear=road,
                    name=r.choice(names),
                    warmup=True,
                    cooldown=True,
                    **common,
                )
            elif dow == 2:
                b.run(
                    day,
                    time(19, 0),
                    r.uniform(6.8, 7.2),
                    315,
                    hr=155,
                    gear="g1004t",
                    sport_type="VirtualRun",
                    trainer=True,
                    name="Treadmill intervals",
                    **common,
                )
            elif dow == 3:
                b.session(day, time(7, 0), "Workout", 30, "Core & mobility")
            elif dow == 4:
                b.run(
                    day,
                    time(18, 0),
                    r.uniform(6.3, 6.7),
                    335,
                    hr=147,
                    gear=road,
                    name=r.choice(names),
                    warmup=True,
                    **common,
                )
            elif dow == 5:
                km = 14.0 if wk == 6 else long_cycle[(100 - wk) % len(long_cycle)]
                note = "Lower back tight after this one." if wk == 6 else None
                b.run(
                    day,
                    time(9, 30),
                    km,
                    345,
                    hr=149,
                    gear=road,
                    name="Long run",
                    description=note,
                    warmup=True,
                    **common,
                )
            continue
        if dow in (1, 3):
            b.session(day, time(7, 0), "Workout", 25, "Physio core exercises", "Bird dogs, dead bugs, side planks.")
        if wk >= 3:  # the break: walks, no runs
            if dow == 5:
                b.session(day, time(10, 0), "Walk", 60, "Walk in the Tiergarten")
            continue
        plan = comeback.get(wk, comeback[-1]).get(dow)
        if plan:
            km, name, note = plan
            if name == "Treadmill":
                b.run(
                    day,
                    time(19, 0),
                    km,
                    330,
                    hr=150,
                    gear="g1004t",
                    sport_type="VirtualRun",
                    trainer=True,
                    name=name,
                    description=note,
                    **common,
                )
            else:
                b.run(
                    day,
                    time(18, 0) if dow != 5 else time(9, 30),
                    km,
                    345,
                    hr=150,
                    gear="g1004b",
                    name=name,
                    description=note,
                    warmup=True,
                    cooldown=dow == 0,
                    **common,
                )
    shoes = [
        _Shoe("g1004a", "adidas", "Ultraboost 22", retired=True),
        _Shoe("g1004b", "adidas", "Adizero SL", primary=True),
        _Shoe("g1004t", "Nike", "Revolution 6", "Gym shoes"),
    ]
    rules = {
        "injury.pain_notes",
        "injury.return_after_break",
        "distance.single_run_spike",
        "distance.weekly_change",
        "surface.no_soft_surface",
    }
    return _athlete(
        athlete_id=1004, persona="niggle", tz=tz, seed=seed, today=today, builder=b, shoes=shoes,
        person=("Jonas", "Becker", "Berlin", "Berlin", "Germany", "M", 74.0),
        rules=rules, bad_tags=(), duplicate_tag=None, profiles=profiles,
    )  # fmt: skip


def build_world(today: date | None = None, seed: int = 7, *, now: datetime | None = None) -> World:
    """The four demo personas, dated so that the last complete week shows their patterns.

    With `today`, every athlete's data is built around that date. Without it, around each
    athlete's own local date at `now` (default: the current time), so the pattern sits in the
    last complete week of their time zone even when UTC is already on another day.
    """
    instant = (now or datetime.now(UTC)).astimezone(UTC)
    profiles: dict[int, list[float]] = {}
    makers = {"steady": _steady, "spiker": _spiker, "fader": _fader, "niggle": _niggle}
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
    per_day = 1 if activities_per_athlete <= 1100 else 2
    for n in range(n_athletes):
        athlete_id = first_athlete_id + n
        tz = ("UTC", "Europe/Paris", "America/Chicago", "Asia/Tokyo")[n % 4]
        b = _Builder(athlete_id, tz, random.Random(seed * 1_000_003 + athlete_id), _Place(48.85, 2.35, 35.0))
        r = b.rng
        shoes = [
            _Shoe(f"g{athlete_id}a", "Nike", "Pegasus 41", primary=True),
            _Shoe(f"g{athlete_id}b", "On", "Cloudmonster"),
        ]
        made = 0
        day = today - timedelta(days=1)
        while made < activities_per_athlete:
            for slot in range(per_day):
                if made >= activities_per_athlete:
                    break
                b.run(
                    day,
                    time(7 + 10 * slot, 15),
                    r.uniform(5.0, 12.0),
                    r.uniform(290, 380),
                    cadence=r.uniform(80, 90),
                    hr=r.uniform(135, 165),
                    gear=shoes[made % 2].gear_id,
                    warmup=r.random() < 0.6,
                    name=f"Run {made + 1}",
                )
                made += 1
            day -= timedelta(days=1)
        persona = f"synthetic{n + 1}"
        athletes[athlete_id] = _athlete(
            athlete_id=athlete_id,
            persona=persona,
            tz=tz,
            seed=seed,
            today=today,
            builder=b,
            shoes=shoes,
            person=("Synthetic", f"Runner {n + 1}", "Paris", "", "France", "F", 60.0),
            rules=set(),
            bad_tags=(),
            duplicate_tag=None,
            profiles=profiles,
        )
        athletes[athlete_id].expected = {}
        athletes[athlete_id].today = today
    return World(today=today, seed=seed, athletes=athletes, cadence_profiles=profiles)
