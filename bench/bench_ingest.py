"""Benchmark: load 100,000 synthetic Strava activities into the warehouse.

Path measured: land the raw JSON payloads in one bulk insert, derive the typed `activities`
rows with DuckDB's JSON functions, upsert by primary key (validation is benchmarked
separately in bench_validation.py, so a pass-through validator is used here).
Baseline in the same run: the naive row-by-row `INSERT INTO activities VALUES (...)` loop,
timed on a smaller sample (it is too slow for 100,000) and compared as rows per second.

Usage: .venv/bin/python bench/bench_ingest.py [--rows 100000] [--baseline-rows 3000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np

from pipeline.loading import LandingItem, ingest_pending, land
from pipeline.warehouse import init_schema


def synthetic_payloads(n: int, athletes: int = 100, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    start = datetime(2023, 1, 1, tzinfo=UTC)
    offsets = np.sort(rng.integers(0, 3 * 365 * 86400, n))
    distance = rng.uniform(3000, 25000, n)
    speed = rng.uniform(2.5, 4.2, n)
    cadence = rng.uniform(76, 90, n)
    hr = rng.uniform(120, 175, n)
    out = []
    for i in range(n):
        t = start + timedelta(seconds=int(offsets[i]))
        moving = int(distance[i] / speed[i])
        out.append(
            {
                "id": 10_000_000 + i,
                "athlete": {"id": 1 + i % athletes},
                "name": f"Run {i}",
                "sport_type": "Run",
                "type": "Run",
                "start_date": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "start_date_local": (t + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "timezone": "(GMT+01:00) Europe/Berlin",
                "distance": round(float(distance[i]), 1),
                "moving_time": moving,
                "elapsed_time": moving + 60,
                "total_elevation_gain": 42.0,
                "average_speed": round(float(speed[i]), 3),
                "max_speed": round(float(speed[i]) * 1.3, 3),
                "average_cadence": round(float(cadence[i]), 1),
                "average_heartrate": round(float(hr[i]), 1),
                "max_heartrate": round(float(hr[i]) + 15, 1),
                "gear_id": f"g{1 + i % athletes}",
                "trainer": False,
                "manual": False,
            }
        )
    return out


def api_pages(payloads: list[dict]) -> dict[int, list[str]]:
    """What the API sends: per athlete, pages of up to 200 summaries as JSON text."""
    per_athlete: dict[int, list[dict]] = {}
    for p in payloads:
        per_athlete.setdefault(p["athlete"]["id"], []).append(p)
    return {a: [json.dumps(acts[i : i + 200]) for i in range(0, len(acts), 200)] for a, acts in per_athlete.items()}


def bulk_load(path: Path, payloads: list[dict], pages: dict[int, list[str]]) -> float:
    """Land each athlete's pages (one landing call per athlete, as a sync does), derive, merge."""
    con = duckdb.connect(str(path))
    init_schema(con)
    t0 = time.perf_counter()
    by_athlete = {a: [LandingItem.from_text("activities_page", "list", t) for t in texts] for a, texts in pages.items()}
    con.execute("begin")
    for athlete_id, items in by_athlete.items():
        land(con, athlete_id, f"bench-{athlete_id}", items)
    con.execute("commit")
    ingest_pending(con, validate=lambda _con, frames, _batch: frames)
    elapsed = time.perf_counter() - t0
    n = con.execute("select count(*) from activities").fetchall()[0][0]
    con.close()
    assert n == len(payloads), (n, len(payloads))
    return elapsed


def row_by_row(path: Path, payloads: list[dict]) -> float:
    con = duckdb.connect(str(path))
    init_schema(con)
    t0 = time.perf_counter()
    for p in payloads:
        con.execute(
            """insert into activities (activity_id, athlete_id, name, sport_type, type, start_date, start_date_local,
               timezone, distance, moving_time, elapsed_time, total_elevation_gain, average_speed, max_speed,
               average_cadence, average_heartrate, max_heartrate, gear_id, trainer, manual)
               values (?, ?, ?, ?, ?, ?::timestamptz, replace(?, 'Z', '')::timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                p["id"],
                p["athlete"]["id"],
                p["name"],
                p["sport_type"],
                p["type"],
                p["start_date"],
                p["start_date_local"],
                p["timezone"],
                p["distance"],
                p["moving_time"],
                p["elapsed_time"],
                p["total_elevation_gain"],
                p["average_speed"],
                p["max_speed"],
                p["average_cadence"],
                p["average_heartrate"],
                p["max_heartrate"],
                p["gear_id"],
                p["trainer"],
                p["manual"],
            ],
        )
    elapsed = time.perf_counter() - t0
    con.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    payloads = synthetic_payloads(args.rows)
    pages = api_pages(payloads)
    sample = payloads[: args.baseline_rows]
    bulk, naive = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            bulk.append(bulk_load(Path(tmp) / f"bulk{i}.duckdb", payloads, pages))
            naive.append(row_by_row(Path(tmp) / f"naive{i}.duckdb", sample))
    bulk_s, naive_s = statistics.median(bulk), statistics.median(naive)
    bulk_rate, naive_rate = args.rows / bulk_s, args.baseline_rows / naive_s
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
                "date": datetime.now(UTC).strftime("%Y-%m-%d"),
                "rows": args.rows,
                "bulk_seconds_median": round(bulk_s, 3),
                "bulk_rows_per_s": round(bulk_rate),
                "baseline_rows": args.baseline_rows,
                "baseline_seconds_median": round(naive_s, 3),
                "baseline_rows_per_s": round(naive_rate),
                "speedup": round(bulk_rate / naive_rate, 1),
                "target": "100,000 activities in under 5 s",
                "target_met": bulk_s < 5.0,
                "runs": {"bulk": [round(x, 3) for x in bulk], "baseline": [round(x, 3) for x in naive]},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
