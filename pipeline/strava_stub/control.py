"""The /_stub control endpoints: tests that run the CLI in a subprocess steer the stub over HTTP.

No auth, 127.0.0.1 only. See `pipeline.strava_stub.server` for the list.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipeline.strava_stub.answers import Answer

OK: dict[str, Any] = {"ok": True}


def control_route(stub: Any, method: str, path: str, body: dict[str, Any]) -> Answer:
    """Answer one control request; a bad body answers 400, an unknown endpoint 404."""
    handler = _ROUTES.get((method, path))
    try:
        if handler is not None:
            return handler(stub, body)
        m = re.fullmatch(r"/_stub/activities/(\d+)", path)
        if m and method in ("PUT", "DELETE"):
            return _change_activity(stub, method, int(m.group(1)), body)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        return 400, {"message": f"bad control request: {type(err).__name__}: {err}"}
    return 404, {"message": "unknown control endpoint"}


def _stats(stub: Any, body: dict[str, Any]) -> Answer:
    return 200, stub.stats()


def _reset(stub: Any, body: dict[str, Any]) -> Answer:
    stub.reset()
    return 200, OK


def _list_faults(stub: Any, body: dict[str, Any]) -> Answer:
    return 200, stub.faults()


def _clear_faults(stub: Any, body: dict[str, Any]) -> Answer:
    stub.clear_faults()
    return 200, OK


def _add_faults(stub: Any, body: dict[str, Any]) -> Answer:
    specs = body.get("_list") or body.get("faults") or [body]
    return 200, [stub.inject(**spec).describe() for spec in specs]


def _limits(stub: Any, body: dict[str, Any]) -> Answer:
    stub.set_limits(int(body["short"]), int(body["daily"]))
    if body.get("reset_usage"):
        stub.reset_usage()
    return 200, {"short": stub.short_limit, "daily": stub.daily_limit}


def _revoke(stub: Any, body: dict[str, Any]) -> Answer:
    target = body.get("athlete_id", body.get("token"))
    stub.revoke(int(target) if isinstance(target, int) or str(target).isdigit() else str(target))
    return 200, OK


def _expire(stub: Any, body: dict[str, Any]) -> Answer:
    stub.expire_access_tokens(body.get("athlete_id"))
    return 200, OK


def _add_activity(stub: Any, body: dict[str, Any]) -> Answer:
    """A generated run ({"run": {start_local, distance_km, pace_s_per_km, ...}}) or raw JSON."""
    athlete_id = int(body["athlete_id"])
    if "run" in body:
        spec = dict(body["run"])
        start = datetime.fromisoformat(spec.pop("start_local"))
        km, pace = float(spec.pop("distance_km")), float(spec.pop("pace_s_per_km", 330))
        activity = stub.world.new_run(athlete_id, start, km, pace, **spec)
    else:
        activity = body["activity"]
    stored = stub.world.add_activity(athlete_id, activity)
    return 201, {"id": stored["id"], "athlete_id": athlete_id}


def _change_activity(stub: Any, method: str, activity_id: int, body: dict[str, Any]) -> Answer:
    found = stub.world.find(activity_id)
    if found is None:
        return 404, {"message": "no such activity"}
    owner, activity = found
    if method == "DELETE":
        stub.world.delete_activity(owner.athlete_id, activity["id"])
        return 200, {"deleted": activity["id"]}
    stub.world.update_activity(owner.athlete_id, activity["id"], body.get("changes", body))
    return 200, {"updated": activity["id"]}


def _event(stub: Any, body: dict[str, Any]) -> Answer:
    status = stub.push_event(
        body["object_type"], body["object_id"], body["aspect_type"], body["owner_id"], body.get("updates")
    )
    return 200, {"callback_status": status}


_ROUTES: dict[tuple[str, str], Callable[[Any, dict[str, Any]], Answer]] = {
    ("GET", "/_stub/stats"): _stats,
    ("POST", "/_stub/reset"): _reset,
    ("GET", "/_stub/faults"): _list_faults,
    ("DELETE", "/_stub/faults"): _clear_faults,
    ("POST", "/_stub/faults"): _add_faults,
    ("POST", "/_stub/limits"): _limits,
    ("POST", "/_stub/revoke"): _revoke,
    ("POST", "/_stub/expire"): _expire,
    ("POST", "/_stub/activities"): _add_activity,
    ("POST", "/_stub/events"): _event,
}
