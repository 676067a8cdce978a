"""Real recorded Strava responses, re-dated and served by the stub as one athlete's world.

The recordings live outside the project (`../shared/real-strava/`, see its README for sources
and licences) and are read from there, never copied: VCR cassettes (YAML with the request, the
response headers and the body as a string) from dblock/strava-ruby-client and
dblock/slack-strava, and JSON bodies from stravalib. `load_corpus(directory)` parses them;
`recorded_world(directory, now)` makes a `RecordedWorld` that `StubServer` serves.

What the world holds (athlete 26462176, the runner of strava-ruby-client's fixtures):

- the profile from `athlete.yml` (with its `shoes` list), served as recorded;
- the 1,132 activity summaries of `all_athlete_activities.yml` (38 pages of 30 and one of 22),
  served as recorded, re-dated (below) and paged by the stub (after/before/page/per_page);
- details: the NYC marathon (`activity.yml`: 43 `splits_metric`, no cadence at all) and the
  ride of `activity_ride.yml`; an activity without a recorded detail answers its recorded
  summary (resource_state 2) as the detail;
- old payloads with `type` only (no `sport_type`): three of the same runner's 2018 runs as
  slack-strava recorded them (list entries and one detail with 12 splits) replace those ids'
  entries of the full list;
- privacy cases from slack-strava (athlete 29323238, adopted by this athlete): a manual run,
  a private ("only_me") manual marathon and a followers-only 3 km run, all `type` only;
- streams: the marathon's recorded streams (`activity_streams.yml`: key_by_type, distance
  only) and, for the followers-only 3 km run, Strava's list shape (`[{"type": ..., "data":
  ...}]`, as in Strava's own API description) built from the real recording of that run
  (`files/17611540601.tcx`: same distance, 976 s, start at the same time of day). That list
  is served whatever `key_by_type` says, as Strava's older answers were. Any other activity
  answers empty streams (`{}`, or `[]` without key_by_type);
- gear: recorded details (`gear.yml`: the retired marathon shoe g3423618 and a bike); a shoe
  of the profile's list without a recorded detail answers its profile entry; a gear id that
  activities reference but nothing recorded describes answers a minimal GearSummary (id,
  retired (not in the profile's list of current shoes), distance = the sum of its recorded
  activities). Remove an id from `athlete.gear` to make it answer the recorded 404;
- the recorded 404 (`not_found_error.yml`: 404 with an empty JSON body) for an unknown
  activity or gear id, and the recorded 429 (`activity_with_ratelimit_exceeded.yml`:
  `{"errors":"Rate Limit Exceeded",...}` with usage 600/600) for `inject_recorded_429`.

Re-dating: every date moves by whole weeks, so weekdays and times of day (UTC and local) and
the spacing between activities stay as recorded. The full list moves so that its newest
activity lands in the last 7 days before `now` (its last 12 weeks are then the lookback
window, the older years history); the marathon, the `type`-only runs (as a group) and the
privacy cases each move to a chosen week inside the lookback window (`RecordedWorld.placed`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.strava_stub.demo_data import DemoAthlete, World, summary_of
from pipeline.strava_stub.recorded_corpus import (
    ATHLETE_ID,
    FAKE_ID,
    FOLLOWERS_ONLY_ID,
    MARATHON_ID,
    PRIVACY_IDS,
    RECORDED_AUTH_CODE,
    RECORDED_EMAIL,
    RECORDED_REFRESH_TOKEN,
    RECORDED_TIMEZONE,
    TYPE_ONLY_IDS,
    Corpus,
    CorpusMissing,
    load_corpus,
)

# Importers use this module for the corpus too (tests, the CLI).
__all__ = [
    "ATHLETE_ID",
    "FAKE_ID",
    "FOLLOWERS_ONLY_ID",
    "MARATHON_ID",
    "PRIVACY_IDS",
    "RECORDED_EMAIL",
    "RECORDED_REFRESH_TOKEN",
    "RECORDED_TIMEZONE",
    "TYPE_ONLY_IDS",
    "Corpus",
    "CorpusMissing",
    "RecordedWorld",
    "inject_recorded_429",
    "load_corpus",
    "recorded_world",
    "redate",
    "weeks_to",
]

_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_DATE_KEYS = ("start_date", "start_date_local")


# --- re-dating ---------------------------------------------------------------------------------


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)


def weeks_to(start: datetime, latest: datetime) -> timedelta:
    """The whole-week shift that moves `start` into (latest - 7 days, latest]."""
    return timedelta(weeks=(latest - start) // timedelta(weeks=1))


def redate(value: Any, shift: timedelta) -> Any:
    """A deep copy with every start_date / start_date_local (at any depth) moved by `shift`."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k in _DATE_KEYS and isinstance(v, str):
                try:
                    v = (_parse(v) + shift).strftime(_STAMP)
                except ValueError:
                    pass
            out[k] = redate(v, shift)
        return out
    if isinstance(value, list):
        return [redate(v, shift) for v in value]
    return value


# --- the world ---------------------------------------------------------------------------------


@dataclass
class RecordedWorld(World):
    """A `World` whose athlete, pages, details, streams and gear are recorded Strava bodies.

    `StubServer` asks it (when present) for `athlete_json`, `summary_json`, `streams_json`
    and `not_found_body`, so the bodies go out as recorded instead of as the demo shapes them.
    """

    corpus: Corpus | None = field(default=None, repr=False)
    now: datetime | None = None
    summaries: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    recorded_streams: dict[int, Any] = field(default_factory=dict, repr=False)
    placed: dict[str, list[int]] = field(default_factory=dict)  # what was moved where (ids)
    lookback_start: datetime | None = None

    # --- server hooks ---------------------------------------------------------------------
    def athlete_json(self, athlete: DemoAthlete) -> dict[str, Any]:
        return copy.deepcopy(athlete.profile)

    def summary_json(self, activity: dict[str, Any]) -> dict[str, Any]:
        recorded = self.summaries.get(activity["id"])
        return recorded if recorded is not None else summary_of(activity)

    def streams_json(self, activity: dict[str, Any], keys: list[str] | None, key_by_type: bool) -> Any:
        body = self.recorded_streams.get(activity["id"])
        if body is None:
            return {} if key_by_type else []
        if isinstance(body, list):  # recorded list shape: served as recorded
            return [s for s in body if keys is None or s.get("type") in keys or s.get("type") == "distance"]
        chosen = {k: v for k, v in body.items() if keys is None or k in keys or k == "distance"}
        return chosen if key_by_type else [{"type": k, **v} for k, v in chosen.items()]

    def not_found_body(self, resource: str) -> Any:
        """The recorded 404's body (empty): None means "send no body"."""
        return self.corpus.not_found.json() if self.corpus is not None else None

    # --- for tests ------------------------------------------------------------------------
    @property
    def athlete_record(self) -> DemoAthlete:
        return self.athletes[ATHLETE_ID]

    def runs_since(self, since: datetime) -> list[dict[str, Any]]:
        """Recorded runs (by sport_type, else type) starting at or after `since`."""
        runs = []
        for a in self.athlete_record.activities:
            sport = a.get("sport_type") or a.get("type")
            if sport in ("Run", "TrailRun", "VirtualRun") and _parse(a["start_date"]) >= since:
                runs.append(a)
        return runs


def recorded_world(
    directory: Path | str, now: datetime | None = None, lookback_weeks: int = 12, corpus: Corpus | None = None
) -> RecordedWorld:
    """The recordings under `directory` as a world for `StubServer`, re-dated relative to `now`."""
    corpus = corpus or load_corpus(directory)
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    placer = _Placer(corpus, now)
    placer.place_cases()
    profile = copy.deepcopy(corpus.profile)
    today = now.date()
    athlete = DemoAthlete(
        athlete_id=ATHLETE_ID,
        persona="recorded",
        email=RECORDED_EMAIL,
        timezone=RECORDED_TIMEZONE,
        refresh_token=RECORDED_REFRESH_TOKEN,
        auth_code=RECORDED_AUTH_CODE,
        profile=profile,
        gear=_gear(profile, corpus, placer.summaries),
        activities=placer.activities(),
        today=today,
    )
    return RecordedWorld(
        today=today,
        seed=0,
        athletes={ATHLETE_ID: athlete},
        corpus=corpus,
        now=now,
        summaries=placer.summaries,
        recorded_streams={activity_id: copy.deepcopy(body) for activity_id, body in corpus.streams.items()},
        placed=placer.placed,
        lookback_start=now - timedelta(weeks=lookback_weeks),
    )


class _Placer:
    """Re-dates the corpus: the full list into the last week before `now`, each case to its week."""

    def __init__(self, corpus: Corpus, now: datetime) -> None:
        self.corpus = corpus
        self.now = now
        self.latest = now - timedelta(hours=1)  # nothing starts in the future or in the last hour
        newest = max(_parse(a["start_date"]) for a in corpus.summaries)
        base = weeks_to(newest, self.latest)
        self.summaries: dict[int, dict[str, Any]] = {}
        self.order: list[int] = []
        for a in corpus.summaries:
            self.summaries[a["id"]] = redate(a, base)
            self.order.append(a["id"])
        self.shifts: dict[int, timedelta] = dict.fromkeys(self.order, base)
        self.placed: dict[str, list[int]] = {"history": list(self.order)}

    def place_cases(self) -> None:
        """The marathon two weeks back, the type-only runs four, the privacy cases five to seven."""
        corpus = self.corpus
        self.move([next(a for a in corpus.summaries if a["id"] == MARATHON_ID)], 2, "marathon")
        self.move([a for a in corpus.type_only_summaries if a["id"] in TYPE_ONLY_IDS], 4, "type_only")
        privacy = sorted(corpus.privacy_summaries, key=lambda a: a["id"])
        for weeks_back, a in zip((5, 6, 7), privacy, strict=True):
            self.move([a], weeks_back, f"privacy_{a['id']}", adopt=True)
        self.placed["privacy"] = [a["id"] for a in corpus.privacy_summaries]

    def move(self, items: list[dict[str, Any]], weeks_back: int, label: str, adopt: bool = False) -> None:
        """Shift a group by whole weeks so its newest lands `weeks_back` weeks before now."""
        group_newest = max(_parse(a["start_date"]) for a in items)
        shift = weeks_to(group_newest, min(self.latest, self.now - timedelta(weeks=weeks_back)))
        for a in items:
            moved = redate(a, shift)
            if adopt:
                moved["athlete"] = {"id": ATHLETE_ID, "resource_state": 1}
            if a["id"] not in self.summaries:
                self.order.append(a["id"])
            self.summaries[a["id"]] = moved
            self.shifts[a["id"]] = shift
        self.placed[label] = [a["id"] for a in items]

    def activities(self) -> list[dict[str, Any]]:
        """Details where recorded (re-dated like their summary), else the summary, in list order."""
        activities = []
        for activity_id in self.order:
            detail = self.corpus.details.get(activity_id)
            if detail is not None and detail.get("id") == activity_id:
                stored = redate(detail, self.shifts[activity_id])
            else:
                stored = copy.deepcopy(self.summaries[activity_id])
            stored["athlete"] = {"id": ATHLETE_ID, "resource_state": 1}
            activities.append(stored)
        return activities


def _gear(profile: dict[str, Any], corpus: Corpus, summaries: dict[int, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Recorded gear details, else the profile's entry, else a GearSummary from the activities."""
    gear: dict[str, dict[str, Any]] = {}
    for shoe in profile.get("shoes") or []:
        gear[shoe["id"]] = copy.deepcopy(shoe)
    for gear_id, body in corpus.gear.items():
        gear[gear_id] = copy.deepcopy(body)
    current = {s["id"] for s in profile.get("shoes") or []} | {b["id"] for b in profile.get("bikes") or []}
    totals: dict[str, float] = {}
    for a in summaries.values():
        if a.get("gear_id"):
            totals[a["gear_id"]] = totals.get(a["gear_id"], 0.0) + float(a.get("distance") or 0.0)
    for gear_id, metres in sorted(totals.items()):
        gear.setdefault(
            gear_id,
            {
                "id": gear_id,
                "primary": False,
                "name": None,
                "nickname": None,
                "resource_state": 2,
                "retired": gear_id not in current,
                "distance": round(metres),
                "converted_distance": round(metres / 1609.344, 1),
            },
        )
    return gear


def inject_recorded_429(server: Any, corpus: Corpus, after: int = 0, path: str | None = r"^/api/v3/") -> Any:
    """Answer one request, after `after` matching ones, with the recorded 429 (status, rate-limit
    headers and body exactly as Strava sent them)."""
    recorded = corpus.rate_limited
    return server.inject(
        "response",
        status=recorded.status,
        body=recorded.body,
        headers=recorded.rate_limit_headers,
        after=after,
        count=1,
        path=path,
    )
