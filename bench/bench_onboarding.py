"""Benchmark: onboarding a squad on one Strava application's default quota, time simulated.

N synthetic athletes (one run a day for two years each, two shoes) register at T0 and are
synced through the bundled Strava-compatible server under Strava's default read limits (100
per 15 minutes, 1,000 a day, windows at :00/:15/:30/:45 and midnight UTC), the way the
scheduled DAG would: one `sync_all` every 15 simulated minutes. Nothing sleeps: the stub's
rate-limit windows and the pipeline's "now" both read one simulated clock.

Reported, per athlete, the simulated hours until
- its last complete week is fully fetched (profile, every shoe, detail and streams of each run
  of that week: what the weekly email needs), and
- its whole lookback window is (every run in the window, and the full listing),
each counted to the end of the 15-minute window of the sync that finished it, against the lower
bound: the requests the work needs at the least (registration, list pages, profile and gear,
two per run), served at the full quota from T0 (every window 100 until the day's 1,000).

Shortcut, stated in BENCHMARKS.md: once a sync reports the *daily* budget spent, the syncs until
the next midnight UTC are not run (each would cost one request and defer); the clock jumps there.

Usage: .venv/bin/python bench/bench_onboarding.py [--athletes 10 50] [--lookback-weeks 12]
       [--history-days 730] [--start-hour 9] [--json results.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import os
import platform
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pipeline.athletes import register_athlete
from pipeline.config import Settings, load_settings
from pipeline.loading import RUN_TYPES
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, synthetic_world
from pipeline.strava_stub.server import StubServer
from pipeline.sync.fetch import PAGE_SIZE
from pipeline.sync.plan import urgent_start
from pipeline.sync.run import sync_all
from pipeline.warehouse import connect_reader

WINDOW_S = 900
SHORT_LIMIT, DAILY_LIMIT = 100, 1000


class SimClock:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def lower_bound_hours(requests: int, start: float) -> float:
    """Hours from `start` to the end of the window in which `requests` reads fit at full quota."""
    t, done, day, used_today = start, 0, int(start // 86400), 0
    while True:
        if int(t // 86400) != day:
            day, used_today = int(t // 86400), 0
        take = min(SHORT_LIMIT, DAILY_LIMIT - used_today)
        done += take
        used_today += take
        if done >= requests:
            return (t + WINDOW_S - start) / 3600
        t += WINDOW_S


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def plan_for(world, start: float, lookback_weeks: int) -> dict[int, dict]:
    """What each athlete needs at the least, and which runs make its last week and lookback."""
    out = {}
    lookback_start = start - lookback_weeks * 7 * 86400
    for athlete in world.athletes.values():
        runs = [a for a in athlete.activities if a["sport_type"] in RUN_TYPES]
        week_from = urgent_start(start, athlete.timezone)
        week = {a["id"] for a in runs if week_from <= _epoch(a["start_date"]) < week_from + 7 * 86400}
        window = {a["id"] for a in runs if _epoch(a["start_date"]) >= lookback_start}
        pages = math.ceil((len(athlete.activities) + 1) / PAGE_SIZE)
        gear = len(athlete.gear)
        out[athlete.athlete_id] = {
            "week": week,
            "window": window,
            # registration (profile) + the newest page + shoes + detail and streams per run
            "week_requests": 1 + 1 + gear + 2 * len(week),
            "window_requests": 1 + pages + gear + 2 * len(window),
            "gear": set(athlete.gear),
        }
    return out


def progress(settings: Settings) -> tuple[dict[int, set[int]], dict[int, set[str]], set[int]]:
    """Runs with both detail and streams, gear ids with a body, athletes fully listed."""
    con = connect_reader(settings)
    try:
        both: dict[int, set[int]] = {}
        for athlete_id, activity_id in con.execute(
            """select athlete_id, try_cast(object_id as bigint) from landing
               where endpoint in ('activity_detail', 'streams') and parse_error is null
               group by all having count(distinct endpoint) = 2"""
        ).fetchall():
            both.setdefault(athlete_id, set()).add(activity_id)
        gear: dict[int, set[str]] = {}
        for athlete_id, gear_id in con.execute(
            "select distinct athlete_id, object_id from landing where endpoint in ('gear', 'gear_missing')"
        ).fetchall():
            gear.setdefault(athlete_id, set()).add(gear_id)
        listed = {
            r[0]
            for r in con.execute(
                "select athlete_id from sync_state where resume_after is null and listed_epoch is not null"
            ).fetchall()
        }
        return both, gear, listed
    finally:
        con.close()


def simulate(n: int, lookback_weeks: int, history_days: int, start_hour: int, max_days: float = 30.0) -> dict:
    wall0 = time.perf_counter()
    # the squad registers at `start_hour`:00 UTC today, just after a window boundary (the
    # synthetic runs end yesterday, so every start hour sees the same history)
    start = float(int(time.time() // 86400) * 86400 + start_hour * 3600 + 1)
    world = synthetic_world(n, history_days)
    clock = SimClock(start)
    needs = plan_for(world, start, lookback_weeks)
    with tempfile.TemporaryDirectory() as tmp, StubServer(world, clock=clock, access_token_ttl_s=90 * 86400) as stub:
        settings = dataclasses.replace(
            load_settings({"BACKSTRIDE_HOME": str(Path(tmp) / "home")}),
            strava_base_url=stub.base_url,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            lookback_weeks=lookback_weeks,
            backoff_s=0.01,
        )
        for athlete in world.athletes.values():
            register_athlete(settings, athlete.refresh_token, athlete.email, athlete.timezone)
        week_done: dict[int, float] = {}
        window_done: dict[int, float] = {}
        syncs = skipped = 0
        while len(window_done) < n and clock.now - start < max_days * 86400:
            results = sync_all(settings, clock=clock)
            syncs += 1
            elapsed_h = (clock.now + WINDOW_S - start) / 3600
            both, gear, listed = progress(settings)
            for athlete_id, need in needs.items():
                have, shoes = both.get(athlete_id, set()), gear.get(athlete_id, set())
                ready = need["gear"] <= shoes
                if athlete_id not in week_done and ready and need["week"] <= have:
                    week_done[athlete_id] = elapsed_h
                if athlete_id not in window_done and ready and need["window"] <= have and athlete_id in listed:
                    window_done[athlete_id] = elapsed_h
            daily_spent = any("daily budget spent" in r.message for r in results)
            nxt = clock.now + WINDOW_S
            if daily_spent and len(window_done) < n:
                midnight = (int(clock.now // 86400) + 1) * 86400 + 1
                skipped += int((midnight - nxt) // WINDOW_S)
                nxt = midnight
            clock.now = nxt
        stats = stub.stats()
    week_requests = sum(v["week_requests"] for v in needs.values())
    window_requests = sum(v["window_requests"] for v in needs.values())
    week_hours = sorted(week_done.values())
    window_hours = sorted(window_done.values())
    lb_week = lower_bound_hours(week_requests, start)
    lb_window = lower_bound_hours(window_requests, start)
    return {
        "athletes": n,
        "history_days": history_days,
        "lookback_weeks": lookback_weeks,
        "runs_in_last_week_median": statistics.median(len(v["week"]) for v in needs.values()),
        "runs_in_lookback_median": statistics.median(len(v["window"]) for v in needs.values()),
        "requests_needed_last_weeks": week_requests,
        "requests_needed_lookback": window_requests,
        "requests_made": stats["api_requests"],
        "rate_limited_429": stats["rate_limited"],
        "syncs_run": syncs,
        "syncs_skipped_daily_spent": skipped,
        "last_week_hours_median": statistics.median(week_hours) if week_hours else None,
        "last_week_hours_max": week_hours[-1] if len(week_hours) == n else None,
        "last_week_lower_bound_hours": lb_week,
        "lookback_hours_median": statistics.median(window_hours) if window_hours else None,
        "lookback_hours_max": window_hours[-1] if len(window_hours) == n else None,
        "lookback_lower_bound_hours": lb_window,
        "ratio_last_week_max_to_bound": round(week_hours[-1] / lb_week, 2) if len(week_hours) == n else None,
        "ratio_lookback_max_to_bound": round(window_hours[-1] / lb_window, 2) if len(window_hours) == n else None,
        "start_utc": datetime.fromtimestamp(start, UTC).isoformat(timespec="minutes"),
        "wall_s": round(time.perf_counter() - wall0, 1),
    }


def machine() -> dict:
    def run(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    return {
        "nproc": run(["nproc"]) or str(os.cpu_count()),
        "free_h": run(["free", "-h"]).splitlines()[1] if run(["free", "-h"]) else "",
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--athletes", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--lookback-weeks", type=int, default=12)
    parser.add_argument("--history-days", type=int, default=730)
    parser.add_argument("--start-hour", type=int, default=9, help="UTC hour the squad registers (default 9)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    out = {"machine": machine(), "runs": []}
    for n in args.athletes:
        result = simulate(n, args.lookback_weeks, args.history_days, args.start_hour)
        out["runs"].append(result)
        print(json.dumps(result), flush=True)
    print(json.dumps(out["machine"]))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
