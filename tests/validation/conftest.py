"""Fixtures for validation tests: a real DuckDB warehouse file and typed rows built like the loader's.

Frames are typed by the warehouse itself (rows go through a temporary copy of the table and
come back as a DataFrame), so they have the dtypes `pipeline.loading.derive_frames` produces.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipeline.validation import DEFAULT_SUITES_DIR

ATHLETE = 7
START = dt.datetime(2026, 11, 2, 7, 0, tzinfo=dt.UTC)  # a Monday morning run, in the past


def typed_frame(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """`rows` as the table's columns and types (defaults filled in), without loaded_at."""
    con.execute(f'create or replace temp table typed_rows as select * from "{table}" limit 0')
    if rows:
        con.register("raw_rows", pd.DataFrame(rows))
        con.execute("insert into typed_rows by name select * from raw_rows")
        con.unregister("raw_rows")
    frame = con.execute("select * from typed_rows").df()
    return frame.drop(columns=["loaded_at"], errors="ignore")


def run(activity_id: int = 1, **overrides: Any) -> dict[str, Any]:
    """A plausible 10 km run: 50 min, 170 spm, HR 150."""
    row = {
        "activity_id": activity_id,
        "athlete_id": ATHLETE,
        "name": "Morning Run",
        "sport_type": "Run",
        "type": "Run",
        "start_date": START + dt.timedelta(days=activity_id),
        "distance": 10_000.0,
        "moving_time": 3_000,
        "elapsed_time": 3_100,
        "average_cadence": 85.0,
        "average_heartrate": 150.0,
        "max_heartrate": 172.0,
        "gear_id": None,
        "has_detail": False,
    }
    row.update(overrides)
    return row


def split(activity_id: int, index: int, distance: float = 1000.0, **overrides: Any) -> dict[str, Any]:
    row = {
        "activity_id": activity_id,
        "athlete_id": ATHLETE,
        "split": index,
        "distance": distance,
        "elapsed_time": 310,
        "moving_time": 300,
        "average_speed": distance / 300,
        "average_heartrate": 150.0,
    }
    row.update(overrides)
    return row


def shoe(gear_id: str = "g1", **overrides: Any) -> dict[str, Any]:
    row = {
        "gear_id": gear_id,
        "athlete_id": ATHLETE,
        "name": "Daily trainer",
        "gear_type": "shoe",
        "distance": 350_000.0,
        "retired": False,
    }
    row.update(overrides)
    return row


def features(activity_id: int = 1, **overrides: Any) -> dict[str, Any]:
    row = {
        "activity_id": activity_id,
        "athlete_id": ATHLETE,
        "sample_count": 3000,
        "duration_s": 3000.0,
        "first_third_spm": 172.0,
        "last_third_spm": 168.0,
        "first_third_pace_s_per_km": 300.0,
        "last_third_pace_s_per_km": 305.0,
        "first_third_hr": 145.0,
        "last_third_hr": 156.0,
        "cadence_samples": 3000,
        "heartrate_samples": 3000,
    }
    row.update(overrides)
    return row


def athlete(athlete_id: int = ATHLETE, **overrides: Any) -> dict[str, Any]:
    row = {"athlete_id": athlete_id, "firstname": "Ada", "email": "ada@example.org", "timezone": "Europe/Paris"}
    row.update(overrides)
    return row


def open_quarantine(con: duckdb.DuckDBPyConnection, table: str | None = None) -> dict[str, list[str]]:
    """record_key -> failed expectations, for open (not released, not superseded) rows."""
    rows = con.execute(
        """select record_key, failed_expectations from quarantine
           where released_at is null and superseded_by is null and (? is null or table_name = ?)
           order by record_key""",
        [table, table],
    ).fetchall()
    return {key: list(failed) for key, failed in rows}


def write_suites(target: Path, edits: dict[str, dict[str, dict[str, Any]]] | None = None) -> Path:
    """Copy the shipped suites to `target`, changing kwargs: {suite: {expectation name: new kwargs}}."""
    target.mkdir(parents=True, exist_ok=True)
    for path in DEFAULT_SUITES_DIR.glob("*.json"):
        shutil.copy(path, target / path.name)
    for suite, changes in (edits or {}).items():
        data = json.loads((target / f"{suite}.json").read_text())
        for item in data["expectations"]:
            if item["name"] in changes:
                item["kwargs"].update(changes[item["name"]])
        (target / f"{suite}.json").write_text(json.dumps(data, indent=2))
    return target
