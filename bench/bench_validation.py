"""Benchmark for issue 3: validate 100,000 activity rows with the shipped activities suite.

Measures `validate_frames` end to end on a real DuckDB file: schema checks, derived columns
(including the cross-table second-recording and gear lookups against a warehouse that already
holds the same number of activities), every row expectation, quarantine writes and the
validation_runs row. About 1% of the rows are broken on purpose (GPS jumps, impossible
cadence), so the quarantine path is paid too. The one-off Great Expectations import is
done before timing and reported separately. Target: under 5 s.

    .venv/bin/python bench/bench_validation.py            # 100,000 rows, median of 5 runs
    .venv/bin/python bench/bench_validation.py --rows 20000 --repeat 3 --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline import validation  # noqa: E402
from pipeline.sport_types import run_sport_types  # noqa: E402
from pipeline.warehouse import init_schema  # noqa: E402

SPORTS = ["Run", "Run", "Run", "TrailRun", "VirtualRun", "Ride", "Walk", "WeightTraining", "Swim", "Yoga"]


def activities(n: int, first_id: int, seed: int) -> pd.DataFrame:
    """`n` plausible activities of 50 athletes (about 1% broken), typed like the loader's frames."""
    rng = np.random.default_rng(seed)
    sport = rng.choice(SPORTS, n)
    is_run = np.isin(sport, run_sport_types())
    distance = np.where(sport == "WeightTraining", 0.0, rng.uniform(3_000, 25_000, n))
    moving = (distance / 1000 * rng.uniform(240, 420, n)).astype("int32")
    moving = np.where(sport == "WeightTraining", 2400, moving).astype("int32")
    cadence = np.where(is_run, rng.uniform(78, 92, n), np.nan)
    broken = rng.random(n) < 0.01
    distance = np.where(broken & is_run, distance * 20, distance)  # GPS jumps
    cadence = np.where(broken & ~is_run, 150.0, cadence)
    start = pd.Timestamp("2020-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) * 1800 + first_id, unit="s")
    frame = pd.DataFrame(
        {
            "activity_id": np.arange(first_id, first_id + n, dtype="int64"),
            "athlete_id": rng.integers(1, 51, n).astype("int64"),
            "name": "Morning activity",
            "description": None,
            "sport_type": sport,
            "type": sport,
            "start_date": start.astype("datetime64[us, UTC]"),
            "start_date_local": start.tz_localize(None).astype("datetime64[us]"),
            "timezone": "(GMT+01:00) Europe/Paris",
            "distance": distance,
            "moving_time": pd.array(moving, dtype="Int32"),
            "elapsed_time": pd.array(moving + rng.integers(0, 600, n).astype("int32"), dtype="Int32"),
            "total_elevation_gain": rng.uniform(0, 300, n),
            "average_speed": distance / np.maximum(moving, 1),
            "max_speed": distance / np.maximum(moving, 1) * 1.4,
            "average_cadence": cadence,
            "average_heartrate": rng.uniform(110, 170, n),
            "max_heartrate": rng.uniform(170, 195, n),
            "gear_id": np.where(is_run, "g" + (rng.integers(1, 51, n)).astype(str), None),
            "trainer": False,
            "manual": False,
            "workout_type": pd.array([None] * n, dtype="Int32"),
            "has_detail": True,
            "landing_id": pd.array(np.arange(n), dtype="Int64"),
            "batch_id": "bench",
        }
    )
    return frame


def setup_warehouse(path: Path, rows: int) -> None:
    """A warehouse already holding `rows` older activities and every athlete's shoe."""
    con = duckdb.connect(str(path))
    init_schema(con)
    history = activities(rows, first_id=10_000_000, seed=1)
    history["start_date"] = history["start_date"] - pd.Timedelta(days=3 * 365)
    con.register("history", history)
    con.execute("insert into activities by name select * from history")
    con.execute(
        "insert into gear (gear_id, athlete_id, gear_type, distance) "
        "select 'g' || i, i, 'shoe', 100000 from range(1, 51) t(i)"
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    validation._engine()  # the one-off import and context
    import_s = time.perf_counter() - t0

    frame = activities(args.rows, first_id=1, seed=2)
    times: list[float] = []
    quarantined = 0
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "warehouse.duckdb"
        setup_warehouse(db, args.rows)
        for i in range(args.repeat):
            con = duckdb.connect(str(db))
            t = time.perf_counter()
            passed = validation.validate_frames(con, {"activities": frame}, f"bench-{i}")
            times.append(time.perf_counter() - t)
            quarantined = args.rows - len(passed["activities"])
            con.close()
    result = {
        "rows": args.rows,
        "runs": args.repeat,
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "quarantined_rows": quarantined,
        "gx_import_s": round(import_s, 1),
        "nproc": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"validate {result['rows']:,} activity rows: median {result['median_s']} s over {args.repeat} runs "
            f"(min {result['min_s']}, max {result['max_s']}); {quarantined} rows quarantined; "
            f"one-off GX import {result['gx_import_s']} s (not included)"
        )


if __name__ == "__main__":
    main()
