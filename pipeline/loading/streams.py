"""Summarising a streams payload: cadence, pace and heart rate in the first and last thirds of the time."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass


def _series(streams: object, key: str) -> list[float] | None:
    if isinstance(streams, list):  # key_by_type=false shape: [{"type": ..., "data": [...]}]
        streams = {s.get("type"): s for s in streams if isinstance(s, dict)}
    if not isinstance(streams, dict):
        return None
    entry = streams.get(key)
    data = entry.get("data") if isinstance(entry, dict) else None
    if not isinstance(data, list):
        return None
    values = []
    for v in data:
        try:
            number = float(v)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        values.append(number if math.isfinite(number) else math.nan)
    return values


def _mean(values: list[float]) -> float | None:
    good = [v for v in values if not math.isnan(v)]
    return sum(good) / len(good) if good else None


@dataclass(frozen=True)
class _Recording:
    """The time series of one activity; the others are used only when they match time's length."""

    time_s: list[float]
    cadence: list[float] | None
    heartrate: list[float] | None
    distance: list[float] | None

    def matches(self, series: list[float] | None) -> bool:
        return bool(series) and len(series) == len(self.time_s)  # type: ignore[arg-type]

    def spm(self, idx: list[int]) -> float | None:
        """Steps per minute (Strava's cadence counts one foot)."""
        if not self.matches(self.cadence):
            return None
        m = _mean([self.cadence[i] for i in idx if self.cadence[i] > 0])  # type: ignore[index]
        return None if m is None else 2 * m

    def pace(self, idx: list[int]) -> float | None:
        """Seconds per km between the first and last sample of `idx`."""
        if not self.matches(self.distance) or len(idx) < 2:
            return None
        dd = self.distance[idx[-1]] - self.distance[idx[0]]  # type: ignore[index]
        dt = self.time_s[idx[-1]] - self.time_s[idx[0]]
        return dt / dd * 1000 if dd > 0 and dt > 0 else None

    def hr(self, idx: list[int]) -> float | None:
        if not self.matches(self.heartrate):
            return None
        return _mean([self.heartrate[i] for i in idx if self.heartrate[i] > 0])  # type: ignore[index]


def _recording(text: str) -> _Recording | None:
    """The parsed streams, or None when the body has no usable time series."""
    try:
        streams = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python parses
        return None
    time_s = _series(streams, "time")
    if not time_s or len(time_s) < 3:
        return None
    total = time_s[-1] - time_s[0]
    if not total or math.isnan(total) or total <= 0:
        return None
    return _Recording(time_s, _series(streams, "cadence"), _series(streams, "heartrate"), _series(streams, "distance"))


def summarise_streams(activity_id: int | None, athlete_id: int, landing_id: int, text: str) -> dict | None:
    """Summarise one streams payload; None when it has no usable time series."""
    if activity_id is None:
        return None
    rec = _recording(text)
    if rec is None:
        return None
    time_s = rec.time_s
    total = time_s[-1] - time_s[0]
    lo, hi = time_s[0] + total / 3, time_s[0] + 2 * total / 3
    first = [i for i, t in enumerate(time_s) if t <= lo]
    last = [i for i, t in enumerate(time_s) if t >= hi]
    return {
        "activity_id": int(activity_id),
        "athlete_id": int(athlete_id),
        "sample_count": len(time_s),
        "duration_s": float(total),
        "first_third_spm": rec.spm(first),
        "last_third_spm": rec.spm(last),
        "first_third_pace_s_per_km": rec.pace(first),
        "last_third_pace_s_per_km": rec.pace(last),
        "first_third_hr": rec.hr(first),
        "last_third_hr": rec.hr(last),
        "cadence_samples": sum(1 for v in rec.cadence or [] if v > 0),
        "heartrate_samples": sum(1 for v in rec.heartrate or [] if v > 0),
        "landing_id": int(landing_id),
    }
