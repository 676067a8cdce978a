"""The /api/v3 endpoints backstride reads: athlete, activity list, activity, streams, gear."""

from __future__ import annotations

import re
from typing import Any

from pipeline.strava_stub.answers import (
    BAD_TOKEN_BODY,
    NOT_ALLOWED_BODY,
    NOT_FOUND_BODY,
    RATE_LIMIT_BODY,
    Answer,
    error,
)
from pipeline.strava_stub.demo_data import DemoAthlete, summary_of
from pipeline.strava_stub.paging import list_activities
from pipeline.strava_stub.push import subscriptions_route


def api_route(
    stub: Any, method: str, path: str, params: dict[str, Any], allowed: bool, bearer: str | None
) -> tuple[int, Any, int | None]:
    """(status, body, athlete id of the access token) of one /api/v3 request.

    `allowed` is False when the request is over the rate limit (answer 429).
    """
    sub = path[len("/api/v3") :] or "/"
    if sub.startswith("/push_subscriptions"):
        if not allowed:
            return 429, RATE_LIMIT_BODY, None
        return (*subscriptions_route(stub, method, sub, params), None)
    athlete_id = stub._athlete_for_access(bearer) if bearer else None
    if not allowed:
        return 429, RATE_LIMIT_BODY, athlete_id
    if athlete_id is None:
        return 401, BAD_TOKEN_BODY, None
    if method != "GET":
        return 405, NOT_ALLOWED_BODY, athlete_id
    world = stub.world
    with world.lock:
        athlete = world.athletes.get(athlete_id)
        if athlete is None:
            return 401, BAD_TOKEN_BODY, athlete_id
        return (*_read(world, athlete, sub, params), athlete_id)


def _read(world: Any, athlete: DemoAthlete, sub: str, params: dict[str, Any]) -> Answer:
    """A GET of the athlete's own data.

    A world may answer in its own shapes (pipeline.strava_stub.recorded serves recorded
    bodies): athlete_json, summary_json, streams_json, not_found_body.
    """
    if sub == "/athlete":
        render = getattr(world, "athlete_json", None)
        return 200, render(athlete) if render is not None else athlete_json(athlete)
    if sub == "/athlete/activities":
        return list_activities(athlete.activities, params, getattr(world, "summary_json", summary_of))
    m = re.fullmatch(r"/activities/(\d+)(/streams)?", sub)
    if m:
        activity = next((a for a in athlete.activities if a["id"] == int(m.group(1))), None)
        if activity is None:
            return 404, not_found(world, "Activity")
        if m.group(2) is None:
            return 200, activity
        return 200, _streams(world, activity, params)
    m = re.fullmatch(r"/gear/([A-Za-z0-9]+)", sub)
    if m:
        gear = athlete.gear.get(m.group(1))
        if gear is None:
            return 404, not_found(world, "Gear")
        return 200, gear
    return 404, NOT_FOUND_BODY


def _streams(world: Any, activity: dict[str, Any], params: dict[str, Any]) -> Any:
    """/activities/{id}/streams: a list of streams, or a dict by type with key_by_type=true."""
    keys = [k for k in str(params.get("keys") or "").split(",") if k] or None
    key_by_type = str(params.get("key_by_type", "")).lower() in ("true", "1")
    render = getattr(world, "streams_json", None)
    if render is not None:
        return render(activity, keys, key_by_type)
    streams = world.streams_of(activity, keys)
    if key_by_type:
        return streams
    return [{"type": k, **v} for k, v in streams.items()]


def not_found(world: Any, resource: str) -> Any:
    """Strava's 404 body for a missing activity or gear (a world may supply its own; None: empty)."""
    body = getattr(world, "not_found_body", None)
    return body(resource) if body is not None else error("Record Not Found", resource, "id", "not found")


def athlete_json(athlete: Any) -> dict[str, Any]:
    """DetailedAthlete: the profile with the athlete's shoes as summaries."""
    profile = dict(athlete.profile)
    profile["shoes"] = [
        {k: g[k] for k in ("id", "primary", "name", "nickname", "retired", "distance", "converted_distance")}
        | {"resource_state": 2}
        for g in athlete.gear.values()
    ]
    return profile
