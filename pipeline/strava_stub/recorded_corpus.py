"""The recorded Strava corpus: VCR cassettes, stravalib's JSON bodies and a TCX file, parsed.

See `pipeline.strava_stub.recorded` for what it holds and how the stub serves it.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

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
