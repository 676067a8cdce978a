"""Real recorded Strava bodies from `../shared/real-strava/`, read where they lie (never copied).

The ruby client and slack-strava fixtures are VCR cassettes (YAML; the body is the string under
`response.body.string`, base64 under a `!binary` tag); stravalib's and the ruby client's model
fixtures are plain JSON files. `activity_bodies()` yields every activity list page and activity
detail among them, exactly as the server sent it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CORPUS = PROJECT_ROOT.parent / "shared" / "real-strava"
RUBY = CORPUS / "dblock__strava-ruby-client"
SLACK = CORPUS / "dblock__slack-strava"
STRAVALIB = CORPUS / "stravalib__stravalib"

_LIST = re.compile(r"/api/v3/athlete/activities(\?|$)")
_DETAIL = re.compile(r"/api/v3/activities/(\d+)$")
_GEAR = re.compile(r"/api/v3/gear/([^/?]+)$")
_ATHLETE = re.compile(r"/api/v3/athlete$")


def require_corpus() -> Path:
    """The corpus folder, or skip the test with a message saying where it was looked for."""
    if not (CORPUS / "README.md").is_file():
        pytest.skip(f"real Strava recordings not found at {CORPUS} (the shared folder beside the project)")
    return CORPUS


@dataclass(frozen=True)
class Body:
    """One recorded response body: where it came from, which endpoint, the text as sent."""

    source: str  # file (relative to the corpus) and, for cassettes, the interaction index
    endpoint: str  # activities_page | activity_detail | gear | athlete
    object_id: str | None
    text: str


def _yaml_loader() -> type:
    import yaml

    class CassetteLoader(yaml.SafeLoader):
        pass

    def binary(loader: yaml.SafeLoader, node: yaml.Node) -> str:
        return base64.b64decode(loader.construct_scalar(node)).decode("utf-8", "replace")  # type: ignore[arg-type]

    CassetteLoader.add_constructor("!binary", binary)
    return CassetteLoader


def cassette(path: Path) -> list[dict]:
    """The interactions of one VCR cassette: method, uri, status, body text."""
    import yaml

    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_yaml_loader())  # a SafeLoader subclass
    out = []
    for item in (data or {}).get("http_interactions", []):
        body = item["response"].get("body") or {}
        out.append(
            {
                "method": item["request"]["method"].upper(),
                "uri": item["request"]["uri"],
                "status": int(item["response"]["status"]["code"]),
                "body": body.get("string") or "",
            }
        )
    return out


def _cassette_bodies() -> Iterator[Body]:
    for path in sorted([*RUBY.rglob("*.yml"), *SLACK.rglob("*.yml")]):
        for index, item in enumerate(cassette(path)):
            if item["method"] != "GET" or item["status"] != 200:
                continue
            path_part = item["uri"].split("://", 1)[-1].split("/", 1)[-1]
            uri = "/" + path_part
            source = f"{path.relative_to(CORPUS)}#{index}"
            if _LIST.search(uri):
                yield Body(source, "activities_page", "list", item["body"])
            elif m := _DETAIL.search(uri.split("?", 1)[0]):
                yield Body(source, "activity_detail", m.group(1), item["body"])
            elif m := _GEAR.search(uri.split("?", 1)[0]):
                yield Body(source, "gear", m.group(1), item["body"])
            elif _ATHLETE.search(uri.split("?", 1)[0]) and path.parent.name == "client":
                yield Body(source, "athlete", None, item["body"])


def _json_files() -> Iterator[Body]:
    files = [
        *sorted((RUBY / "models" / "detailed_activities").glob("*.json")),
        STRAVALIB / "activity.3.json",
        STRAVALIB / "activity-manual.3.json",
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        activity_id = json.loads(text).get("id")
        yield Body(str(path.relative_to(CORPUS)), "activity_detail", str(activity_id), text)
    for path in sorted((RUBY / "models" / "detailed_gear").glob("*.json")):
        text = path.read_text(encoding="utf-8")
        yield Body(str(path.relative_to(CORPUS)), "gear", str(json.loads(text).get("id")), text)


def activity_bodies() -> list[Body]:
    """Every recorded activity list page and detail, and the ruby client's profile and gear bodies."""
    require_corpus()
    return [*_cassette_bodies(), *_json_files()]
