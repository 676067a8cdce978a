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

import base64
import copy
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.strava_stub.demo_data import DemoAthlete, World, summary_of

RUBY = "dblock__strava-ruby-client"
SLACK = "dblock__slack-strava"
STRAVALIB = "stravalib__stravalib"
ATHLETE_ID = 26462176
MARATHON_ID = 1946417534
FOLLOWERS_ONLY_ID = 2953904209  # the 3 km run whose real samples are in files/17611540601.tcx
TYPE_ONLY_IDS = (1473024961, 1477353766, 1484119264)
PRIVACY_IDS = (1991813808, 1994662431, 2953904209)  # manual; private manual marathon; followers-only
FAKE_ID = 194641753419464175341946417534  # activity_with_fake_id.yml: Strava echoed a 30-digit id
RECORDED_REFRESH_TOKEN = "recorded-refresh-26462176"
RECORDED_AUTH_CODE = "recorded-code-26462176"
RECORDED_EMAIL = "recorded.runner@example.com"
RECORDED_TIMEZONE = "America/New_York"
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_DATE_KEYS = ("start_date", "start_date_local")
RATE_LIMIT_HEADERS = re.compile(r"^x-(read)?ratelimit-(limit|usage)$", re.IGNORECASE)


class CorpusMissing(FileNotFoundError):
    """The directory of recordings is absent or lacks a file this module reads."""


@dataclass(frozen=True)
class RecordedResponse:
    """One recorded HTTP answer: status, headers (name -> value) and the body as sent."""

    status: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def rate_limit_headers(self) -> dict[str, str]:
        return {k: v for k, v in self.headers.items() if RATE_LIMIT_HEADERS.match(k)}


@dataclass(frozen=True)
class Interaction:
    method: str
    uri: str
    response: RecordedResponse


def _yaml_loader() -> type:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[misc, valid-type]
        pass

    def binary(loader: Any, node: Any) -> str:  # VCR writes non-ASCII bodies as !binary base64
        return base64.b64decode(loader.construct_scalar(node)).decode("utf-8", "replace")

    Loader.add_constructor("!binary", binary)
    return Loader


def read_cassette(path: Path) -> list[Interaction]:
    """The HTTP exchanges of one VCR cassette."""
    import yaml

    if not path.is_file():
        raise CorpusMissing(f"recording not found: {path}")
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_yaml_loader())
    out = []
    for item in data.get("http_interactions") or []:
        req, resp = item["request"], item["response"]
        headers = {k: (v[-1] if isinstance(v, list) else v) for k, v in (resp.get("headers") or {}).items()}
        headers = {k: str(v) for k, v in headers.items() if v is not None}
        body = (resp.get("body") or {}).get("string") or ""
        out.append(
            Interaction(
                str(req["method"]).upper(),
                str(req["uri"]),
                RecordedResponse(int(resp["status"]["code"]), headers, body),
            )
        )
    return out


def _body(path: Path, index: int = 0) -> Any:
    return read_cassette(path)[index].response.json()


@dataclass
class Corpus:
    """The recordings, parsed, with their original dates."""

    directory: Path
    profile: dict[str, Any]
    summaries: list[dict[str, Any]]  # newest first, as recorded
    pages: list[RecordedResponse]  # all_athlete_activities.yml, page by page (30 a page)
    details: dict[int, dict[str, Any]]
    type_only_summaries: list[dict[str, Any]]
    privacy_summaries: list[dict[str, Any]]
    streams: dict[int, Any]  # activity id -> streams body (dict keyed by type, or Strava's list)
    gear: dict[str, dict[str, Any]]
    not_found: RecordedResponse
    rate_limited: RecordedResponse
    fake_id_detail: dict[str, Any]
    stravalib_activity: dict[str, Any]
    stravalib_manual_activity: dict[str, Any]


def load_corpus(directory: Path | str) -> Corpus:
    """Parse the recordings under `directory` (../shared/real-strava); CorpusMissing if absent."""
    root = Path(directory)
    if not root.is_dir():
        raise CorpusMissing(f"no recordings at {root}")
    client = root / RUBY / "client"
    pages = [i.response for i in read_cassette(client / "all_athlete_activities.yml")]
    summaries = [a for page in pages for a in json.loads(page.body)]
    details = {
        MARATHON_ID: _body(client / "activity.yml"),
        7142833299: _body(client / "activity_ride.yml"),
    }
    slack = read_cassette(root / SLACK / "user_sync_new_strava_activities.yml")
    type_only = [a for i in slack if "/athlete/activities" in i.uri for a in i.response.json()]
    for i in slack:
        if re.search(r"/activities/\d+$", i.uri):
            body = i.response.json()
            details[int(body["id"])] = body
    privacy_cassette = read_cassette(root / SLACK / "user_sync_new_strava_activities_privacy.yml")
    privacy = [a for i in privacy_cassette if "/athlete/activities" in i.uri for a in i.response.json()]
    gear = {}
    for i in read_cassette(client / "gear.yml"):
        body = i.response.json()
        gear[str(body["id"])] = body
    streams: dict[int, Any] = {MARATHON_ID: _body(client / "activity_streams.yml")}
    tcx = root / RUBY / "files" / "17611540601.tcx"
    if not tcx.is_file():
        raise CorpusMissing(f"recording not found: {tcx}")
    streams[FOLLOWERS_ONLY_ID] = streams_from_tcx(tcx)
    lib = root / STRAVALIB
    try:
        stravalib_activity = json.loads((lib / "activity.3.json").read_text(encoding="utf-8"))
        stravalib_manual = json.loads((lib / "activity-manual.3.json").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise CorpusMissing(f"recording not found: {err.filename}") from None
    return Corpus(
        directory=root,
        profile=_body(client / "athlete.yml"),
        summaries=summaries,
        pages=pages,
        details=details,
        type_only_summaries=type_only,
        privacy_summaries=privacy,
        streams=streams,
        gear=gear,
        not_found=read_cassette(client / "not_found_error.yml")[0].response,
        rate_limited=read_cassette(client / "activity_with_ratelimit_exceeded.yml")[0].response,
        fake_id_detail=_body(client / "activity_with_fake_id.yml"),
        stravalib_activity=stravalib_activity,
        stravalib_manual_activity=stravalib_manual,
    )


def streams_from_tcx(path: Path) -> list[dict[str, Any]]:
    """A TCX recording's trackpoints as Strava's list-shaped streams (time, distance, latlng,
    altitude, heartrate), each `{"type", "data", "series_type", "original_size", "resolution"}`.
    Distance is kept cumulative (see below); a missing position is null, a missing heart rate 0."""
    ns = {"t": "http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2"}
    points = ET.parse(path).getroot().findall(".//t:Trackpoint", ns)
    series: dict[str, list[Any]] = {"time": [], "distance": [], "latlng": [], "altitude": [], "heartrate": []}
    start: datetime | None = None
    for p in points:
        at = datetime.fromisoformat(p.findtext("t:Time", namespaces=ns) or "")
        start = start or at
        series["time"].append(int((at - start).total_seconds()))
        # Strava's distance stream is cumulative and never goes back: the recording's last
        # trackpoint says 0.0 (the device reset), so a missing or smaller value keeps the distance so far
        previous = series["distance"][-1] if series["distance"] else 0.0
        distance = float(p.findtext("t:DistanceMeters", None, ns) or previous)
        series["distance"].append(round(max(distance, previous), 1))
        lat, lng = (
            p.findtext("t:Position/t:LatitudeDegrees", None, ns),
            p.findtext("t:Position/t:LongitudeDegrees", None, ns),
        )
        series["latlng"].append([round(float(lat), 6), round(float(lng), 6)] if lat and lng else None)
        series["altitude"].append(round(float(p.findtext("t:AltitudeMeters", "0", ns)), 1))
        series["heartrate"].append(int(p.findtext("t:HeartRateBpm/t:Value", "0", ns)))
    return [
        {"type": key, "data": data, "series_type": "distance", "original_size": len(data), "resolution": "high"}
        for key, data in series.items()
    ]


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
    latest = now - timedelta(hours=1)  # nothing starts in the future or in the last hour
    lookback_start = now - timedelta(weeks=lookback_weeks)

    def target(weeks_back: int) -> datetime:
        return min(latest, now - timedelta(weeks=weeks_back))

    newest = max(_parse(a["start_date"]) for a in corpus.summaries)
    base = weeks_to(newest, latest)
    summaries: dict[int, dict[str, Any]] = {}
    order: list[int] = []
    for a in corpus.summaries:
        summaries[a["id"]] = redate(a, base)
        order.append(a["id"])
    shifts: dict[int, timedelta] = dict.fromkeys(order, base)
    placed: dict[str, list[int]] = {"history": list(order)}

    def move(items: list[dict[str, Any]], weeks_back: int, label: str, adopt: bool = False) -> None:
        group_newest = max(_parse(a["start_date"]) for a in items)
        shift = weeks_to(group_newest, target(weeks_back))
        for a in items:
            moved = redate(a, shift)
            if adopt:
                moved["athlete"] = {"id": ATHLETE_ID, "resource_state": 1}
            if a["id"] not in summaries:
                order.append(a["id"])
            summaries[a["id"]] = moved
            shifts[a["id"]] = shift
        placed[label] = [a["id"] for a in items]

    # the marathon two weeks back, the type-only runs four, the privacy cases five to seven
    move([next(a for a in corpus.summaries if a["id"] == MARATHON_ID)], 2, "marathon")
    move([a for a in corpus.type_only_summaries if a["id"] in TYPE_ONLY_IDS], 4, "type_only")
    for weeks_back, a in zip((5, 6, 7), sorted(corpus.privacy_summaries, key=lambda a: a["id"]), strict=True):
        move([a], weeks_back, f"privacy_{a['id']}", adopt=True)
    placed["privacy"] = [a["id"] for a in corpus.privacy_summaries]

    activities = []
    for activity_id in order:
        detail = corpus.details.get(activity_id)
        if detail is not None and detail.get("id") == activity_id:
            stored = redate(detail, shifts[activity_id])
        else:
            stored = copy.deepcopy(summaries[activity_id])
        stored["athlete"] = {"id": ATHLETE_ID, "resource_state": 1}
        activities.append(stored)

    profile = copy.deepcopy(corpus.profile)
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

    today = now.date()
    athlete = DemoAthlete(
        athlete_id=ATHLETE_ID,
        persona="recorded",
        email=RECORDED_EMAIL,
        timezone=RECORDED_TIMEZONE,
        refresh_token=RECORDED_REFRESH_TOKEN,
        auth_code=RECORDED_AUTH_CODE,
        profile=profile,
        gear=gear,
        activities=activities,
        today=today,
    )
    streams = {}
    for activity_id, body in corpus.streams.items():
        streams[activity_id] = copy.deepcopy(body)
    world = RecordedWorld(
        today=today,
        seed=0,
        athletes={ATHLETE_ID: athlete},
        corpus=corpus,
        now=now,
        summaries=summaries,
        recorded_streams=streams,
        placed=placed,
        lookback_start=lookback_start,
    )
    return world


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
