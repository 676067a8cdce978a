"""Strava's rate limits and the stub's request counts (a part of `StubServer`)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any


class RateLimitsMixin:
    """15-minute and daily windows, read and overall usage, Strava's headers and 429 decisions."""

    clock: Callable[[], float]
    short_limit: int
    daily_limit: int
    _lock: threading.RLock

    def set_limits(self, short: int, daily: int) -> None:
        """Read limits per 15 minutes and per day (overall limits are twice these)."""
        with self._lock:
            self.short_limit, self.daily_limit = short, daily

    def reset_usage(self) -> None:
        with self._lock:
            self._windows = (None, None)
            self._usage = {"read": [0, 0], "overall": [0, 0]}

    def _roll_windows(self) -> None:
        now = self.clock()
        short_w, day_w = int(now // 900), int(now // 86400)
        old_short, old_day = self._windows
        if old_short != short_w:
            self._usage["read"][0] = self._usage["overall"][0] = 0
        if old_day != day_w:
            self._usage["read"][1] = self._usage["overall"][1] = 0
        self._windows = (short_w, day_w)

    def _count(self, method: str) -> bool:
        """Count one API request; False if it is over the limit (answer 429)."""
        with self._lock:
            self._roll_windows()
            for kind in ("overall", "read") if method == "GET" else ("overall",):
                self._usage[kind][0] += 1
                self._usage[kind][1] += 1
            read, overall = self._usage["read"], self._usage["overall"]
            if method == "GET" and (read[0] > self.short_limit or read[1] > self.daily_limit):
                return False
            return not (overall[0] > 2 * self.short_limit or overall[1] > 2 * self.daily_limit)

    def usage(self) -> dict[str, tuple[int, int]]:
        with self._lock:
            self._roll_windows()
            return {k: (v[0], v[1]) for k, v in self._usage.items()}

    def rate_headers(self, exhausted: bool = False) -> dict[str, str]:
        with self._lock:
            read, overall = list(self._usage["read"]), list(self._usage["overall"])
            if exhausted:
                read[0] = max(read[0], self.short_limit)
                overall[0] = max(overall[0], 2 * self.short_limit)
            return {
                "X-RateLimit-Limit": f"{2 * self.short_limit},{2 * self.daily_limit}",
                "X-RateLimit-Usage": f"{overall[0]},{overall[1]}",
                "X-ReadRateLimit-Limit": f"{self.short_limit},{self.daily_limit}",
                "X-ReadRateLimit-Usage": f"{read[0]},{read[1]}",
            }


class StatsMixin:
    """Request counts: per endpoint template, per athlete, per status, faults fired."""

    internal_errors: list[str]
    short_limit: int
    daily_limit: int
    _lock: threading.RLock

    usage: Callable[[], dict[str, tuple[int, int]]]  # from RateLimitsMixin

    def reset_stats(self) -> None:
        with self._lock:
            self._stats: dict[str, Any] = {
                "api_requests": 0,
                "oauth_requests": 0,
                "by_endpoint": Counter(),
                "by_athlete": Counter(),
                "by_status": Counter(),
                "faults_fired": Counter(),
                "rate_limited": 0,
            }

    def stats(self) -> dict[str, Any]:
        """Request counts: total API requests, per endpoint template, per athlete, per status."""
        with self._lock:
            s = self._stats
            return {
                "api_requests": s["api_requests"],
                "oauth_requests": s["oauth_requests"],
                "by_endpoint": dict(s["by_endpoint"]),
                "by_athlete": dict(s["by_athlete"]),
                "by_status": dict(s["by_status"]),
                "faults_fired": dict(s["faults_fired"]),
                "rate_limited": s["rate_limited"],
                "internal_errors": len(self.internal_errors),
                "usage": {k: list(v) for k, v in self.usage().items()},
                "limits": {"short": self.short_limit, "daily": self.daily_limit},
            }

    def _record(self, endpoint: str, athlete_id: int | None, status: int, api: bool) -> None:
        with self._lock:
            s = self._stats
            if api:
                s["api_requests"] += 1
                if athlete_id is not None:
                    s["by_athlete"][athlete_id] += 1
            else:
                s["oauth_requests"] += 1
            s["by_endpoint"][endpoint] += 1
            s["by_status"][status] += 1
            if status == 429:
                s["rate_limited"] += 1
