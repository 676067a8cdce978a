"""Helpers for the stub tests: authorised requests, a stravalib client pointed at the stub,
and an independent reading of the evidence rules used to check what each persona shows."""

from __future__ import annotations

import itertools
import re
import statistics
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from loopback_support import JsonHandler, running_http
from stravalib import Client

from pipeline.strava_stub import StubServer, World
from pipeline.strava_stub.demo_data import (
    PAIN_WORDS,
    RUN_SPORTS,
    SOFT_SURFACE_WORDS,
    STRENGTH_SPORTS,
    STRENGTH_WORKOUT_WORDS,
)

STRAVA_ORIGIN = "https://www.strava.com"


class StubSession(requests.Session):
    """Sends stravalib's www.strava.com calls to the stub instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if isinstance(url, str) and url.startswith(STRAVA_ORIGIN):
            url = self.base_url + url[len(STRAVA_ORIGIN) :]
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


def bearer(stub: StubServer, athlete_id: int) -> dict[str, str]:
    """Authorization header with a fresh access token for the athlete."""
    return {"Authorization": f"Bearer {stub.issue_tokens(athlete_id)['access_token']}"}


def api_get(stub: StubServer, athlete_id: int, path: str, **params: Any) -> requests.Response:
    return requests.get(stub.api_url + path, params=params, headers=bearer(stub, athlete_id), timeout=10)


def stravalib_client(stub: StubServer, athlete_id: int) -> Client:
    tokens = stub.issue_tokens(athlete_id)
    return Client(
        access_token=tokens["access_token"],
        token_expires=tokens["expires_at"],
        requests_session=StubSession(stub.base_url),
    )


# --- an independent reading of ../shared/evidence.md, at watch level -----------------------


def _start(activity: dict[str, Any]) -> datetime:
    return datetime.strptime(activity["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _local_day(activity: dict[str, Any]) -> date:
    return date.fromisoformat(activity["start_date_local"][:10])


def _has(text: str | None, words: tuple[str, ...]) -> bool:
    return bool(text) and any(re.search(word, text, re.IGNORECASE) for word in words)


def thirds(world: World, activity: dict[str, Any]) -> dict[str, float]:
    """First-third vs last-third (by time) pace fade and cadence drop from the streams."""
    s = world.streams(activity["id"], ["time", "distance", "cadence", "heartrate"])
    t, d, c, h = (s[k]["data"] for k in ("time", "distance", "cadence", "heartrate"))
    end = t[-1]

    def part(lo: float, hi: float) -> tuple[float, float, float]:
        idx = [i for i, x in enumerate(t) if lo <= x <= hi]
        secs = t[idx[-1]] - t[idx[0]]
        metres = d[idx[-1]] - d[idx[0]]
        return secs / (metres / 1000), statistics.mean(c[i] for i in idx), statistics.mean(h[i] for i in idx)

    p1, c1, h1 = part(0, end / 3)
    p3, c3, h3 = part(2 * end / 3, end)
    return {"pace_fade": p3 / p1 - 1, "cadence_drop": 1 - c3 / c1, "hr_drift": h3 - h1}


def has_warmup(activity: dict[str, Any]) -> bool:
    splits = [s for s in activity.get("splits_metric") or [] if s["distance"] >= 500]
    if len(splits) < 3:
        return False
    paces = [s["moving_time"] / s["distance"] for s in splits]
    return paces[0] >= 1.05 * statistics.median(paces)


def triggered_rules(world: World, persona: str, monday: date | None = None) -> set[str]:
    """Which rules fire (at any severity) in a week: by default the last complete week."""
    athlete = world.by_persona(persona)
    bad = set(athlete.bad_records.values())
    monday = monday or world.week(athlete.athlete_id)[0]
    sunday = monday + timedelta(days=6)
    acts = [a for a in {id(a): a for a in athlete.activities}.values() if a["id"] not in bad]
    acts = [a for a in acts if _local_day(a) <= sunday]
    runs = sorted((a for a in acts if a["sport_type"] in RUN_SPORTS), key=_start)
    week_runs = [a for a in runs if _local_day(a) >= monday]
    last4 = [a for a in runs if _local_day(a) > sunday - timedelta(days=28)]
    last12w = [a for a in runs if _local_day(a) > sunday - timedelta(weeks=12)]
    found: set[str] = set()

    for run in week_runs:
        before = [r["distance"] for r in runs if timedelta(0) < _start(run) - _start(r) <= timedelta(days=30)]
        if before and run["distance"] / max(before) > 1.10:
            found.add("distance.single_run_spike")
    for i, run in enumerate(runs[:-1]):
        nxt = runs[i + 1]
        if not monday <= _local_day(nxt) <= sunday:
            continue
        window = [r["distance"] for r in runs if timedelta(0) <= _start(run) - _start(r) < timedelta(days=28)]
        big = run["distance"] >= max(window) or run["moving_time"] >= 90 * 60
        if big and _start(nxt) - _start(run) < timedelta(hours=48):
            found.add("distance.recovery_after_big_run")
    week_km = sum(r["distance"] for r in week_runs)
    before_km = [
        sum(
            r["distance"]
            for r in runs
            if monday - timedelta(weeks=k) <= _local_day(r) < monday - timedelta(weeks=k - 1)
        )
        for k in range(1, 5)
    ]
    if statistics.mean(before_km) > 0 and week_km / statistics.mean(before_km) > 1.5:
        found.add("distance.weekly_change")
    loads = [sum(r["moving_time"] for r in week_runs if _local_day(r) == monday + timedelta(days=k)) for k in range(7)]
    if statistics.pstdev(loads) > 0 and statistics.mean(loads) / statistics.pstdev(loads) > 2.0:
        found.add("distance.monotony")

    gear = {g: v for g, v in athlete.gear.items() if not v["retired"]}
    if any(v["distance"] > 600_000 for v in gear.values()):
        found.add("shoes.mileage")
    runs_per_week = len(last4) / 4
    for gear_id in gear:
        used = [r for r in runs if r.get("gear_id") == gear_id]
        if used and runs_per_week >= 3 and (sunday - _local_day(used[0])).days > 365:
            found.add("shoes.age")
    if len({r.get("gear_id") for r in last12w if r.get("gear_id")}) == 1:
        found.add("shoes.rotation")
    if last4 and sum(1 for r in last4 if not r.get("gear_id")) / len(last4) > 0.25:
        found.add("shoes.unknown_gear")

    if week_runs and statistics.mean(2 * r["average_cadence"] for r in week_runs) < 160:
        found.add("posture.cadence")
    for run in week_runs:
        if run["moving_time"] >= 45 * 60 and run.get("splits_metric"):
            fade = thirds(world, run)
            if fade["cadence_drop"] >= 0.04 or fade["pace_fade"] >= 0.08:
                found.add("posture.form_fading")

    if not any(r["sport_type"] == "TrailRun" or _has(r["name"], SOFT_SURFACE_WORDS) for r in last4):
        found.add("surface.no_soft_surface")
    if last4 and sum(has_warmup(r) for r in last4) / len(last4) < 0.5:
        found.add("preparation.warmup")

    strength = [
        a
        for a in acts
        if a["sport_type"] in STRENGTH_SPORTS
        or (
            a["sport_type"] == "Workout"
            and _has(f"{a.get('name') or ''} {a.get('description') or ''}", STRENGTH_WORKOUT_WORDS)
        )
    ]
    if not any(_local_day(a) > sunday - timedelta(days=14) for a in strength):
        found.add("strength.no_strength_14d")
    in_14d = sum(1 for a in strength if _local_day(a) > sunday - timedelta(days=14))
    if in_14d and sum(1 for a in strength if _local_day(a) > sunday - timedelta(days=28)) < 4:
        found.add("strength.low_frequency")  # not raised when no_strength_14d already is

    recent = [a for a in acts if _local_day(a) > sunday - timedelta(days=14)]
    if any(_has(a["name"], PAIN_WORDS) or _has(a.get("description"), PAIN_WORDS) for a in recent):
        found.add("injury.pain_notes")
    for prev, nxt in itertools.pairwise(runs):
        if _start(nxt) - _start(prev) >= timedelta(days=14) and _local_day(nxt) > sunday - timedelta(days=28):
            found.add("injury.return_after_break")
    return found


class CallbackServer:
    """A webhook receiver on 127.0.0.1 for subscription tests: echoes the challenge when the
    verify token matches (if `echo`) and records the events POSTed to it."""

    def __init__(self, verify_token: str = "s3cret-verify", echo: bool = True) -> None:
        self.events: list[dict[str, Any]] = []
        self.validations: list[dict[str, str]] = []
        self.url = ""
        self._servers = ExitStack()
        receiver = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
                receiver.validations.append(query)
                if echo and query.get("hub.verify_token") == verify_token:
                    self.send_json(200, {"hub.challenge": query.get("hub.challenge", "")})
                else:
                    self.send_json(403, {"error": "verify token mismatch"})

            def do_POST(self) -> None:
                receiver.events.append(self.read_json())
                self.send_json(200, {})

        self._handler = Handler

    def __enter__(self) -> CallbackServer:
        self.url = self._servers.enter_context(running_http(self._handler)) + "/webhook"
        return self

    def __exit__(self, *exc: object) -> None:
        self._servers.close()
