"""Strava streams generated from an activity's splits, so they agree with it."""

from __future__ import annotations

import math
import random
from typing import Any

from pipeline.strava_stub.demo_data.constants import ALL_STREAM_KEYS


def _segments(
    activity: dict[str, Any], cadence: list[float] | None
) -> list[tuple[int, float, float | None, float | None, float]]:
    """(moving s, metres, cadence, heart rate, elevation change) per split."""
    splits = activity.get("splits_metric") or []
    hr_avg = activity.get("average_heartrate")
    cad_avg = activity.get("average_cadence")
    if splits and sum(int(s.get("moving_time") or 0) for s in splits) > 0:
        out = []
        for i, s in enumerate(splits):
            cad = cadence[i] if cadence and i < len(cadence) else cad_avg
            out.append(
                (
                    int(s.get("moving_time") or 0),
                    float(s.get("distance") or 0.0),
                    cad,
                    s.get("average_heartrate", hr_avg),
                    float(s.get("elevation_difference") or 0.0),
                )
            )
        return [seg for seg in out if seg[0] > 0]
    moving = int(activity.get("moving_time") or 0)
    return [(moving, float(activity.get("distance") or 0.0), cad_avg, hr_avg, 0.0)] if moving > 0 else []


def all_streams(activity: dict[str, Any], cadence: list[float] | None) -> tuple[dict[str, list[Any]], set[str], str]:
    """Every stream the activity has: (data by key, available keys, series type)."""
    rng = random.Random(int(activity["id"]) * 31 + 7)
    segments = _segments(activity, cadence)
    total_t = sum(s[0] for s in segments)
    total_d = sum(s[1] for s in segments)
    if total_t <= 0:
        return {}, set(), "time"
    step = min(5, max(1, math.ceil(total_t / 1800)))
    times = [*list(range(0, total_t, step)), total_t]
    has_distance = total_d > 0
    has_cadence = activity.get("average_cadence") is not None
    has_hr = bool(activity.get("has_heartrate", activity.get("average_heartrate") is not None))
    has_gps = bool(activity.get("start_latlng"))
    base_alt = float(activity.get("elev_low") or 20.0)
    data: dict[str, list[Any]] = {k: [] for k in ALL_STREAM_KEYS}
    seg_i, seg_start_t, seg_start_d, seg_start_alt = 0, 0, 0.0, base_alt
    for t in times:
        while seg_i < len(segments) - 1 and t > seg_start_t + segments[seg_i][0]:
            seg_start_t += segments[seg_i][0]
            seg_start_d += segments[seg_i][1]
            seg_start_alt += segments[seg_i][4]
            seg_i += 1
        seg_t, seg_d, seg_cad, seg_hr, seg_elev = segments[seg_i]
        within = min(1.0, (t - seg_start_t) / seg_t)
        speed = seg_d / seg_t
        dist = seg_start_d + seg_d * within
        data["time"].append(t)
        data["distance"].append(round(dist, 1))
        data["velocity_smooth"].append(round(max(0.0, speed * (1 + rng.uniform(-0.03, 0.03))), 2) if t else 0.0)
        data["cadence"].append(round(seg_cad + rng.uniform(-1.5, 1.5)) if seg_cad else 0)
        data["heartrate"].append(round(seg_hr + rng.uniform(-2.0, 2.0)) if seg_hr else 0)
        data["altitude"].append(round(seg_start_alt + seg_elev * within, 1))
        data["moving"].append(True)
        data["grade_smooth"].append(round(100 * seg_elev / seg_d, 1) if seg_d else 0.0)
        if has_gps:
            lat0, lng0 = activity["start_latlng"]
            radius = max(total_d, 1.0) / (2 * math.pi)
            angle = 2 * math.pi * dist / max(total_d, 1.0)
            dlat = radius * (math.cos(angle) - 1) / 111_320
            dlng = radius * math.sin(angle) / (111_320 * math.cos(math.radians(lat0)))
            data["latlng"].append([round(lat0 + dlat, 6), round(lng0 + dlng, 6)])
    available = {"time", "moving"}
    if has_distance:
        available |= {"distance", "velocity_smooth", "altitude", "grade_smooth"}
    if has_cadence:
        available.add("cadence")
    if has_hr:
        available.add("heartrate")
    if has_gps:
        available.add("latlng")
    return data, available, "distance" if has_distance else "time"


def pick_streams(streams: tuple[dict[str, list[Any]], set[str], str], keys: list[str]) -> dict[str, dict[str, Any]]:
    """The requested streams the activity has, plus distance (the series type), like Strava."""
    data, available, series = streams
    chosen = [k for k in keys if k in available]
    if "distance" in available and "distance" not in chosen:
        chosen.append("distance")
    size = len(data.get("time", []))
    return {k: {"data": data[k], "series_type": series, "original_size": size, "resolution": "high"} for k in chosen}


# --- building activities ---------------------------------------------------------------
