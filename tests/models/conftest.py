"""A small training log builder for model tests: hand-built activities in a real DuckDB file.

Rows go into the typed tables of `pipeline.warehouse` with a DataFrame bulk insert, then
`build_models` runs over them exactly as `backstride build` does.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipeline.models import BuildReport, build_models, set_override

MONDAY = dt.date(2026, 1, 5)  # an ISO week start; tests count weeks from here
AS_OF = dt.date(2026, 6, 1)
_ids = itertools.count(1000)


def day(week: int, weekday: int = 0) -> dt.date:
    """The date `weekday` (0 = Monday) of week `week` counted from MONDAY."""
    return MONDAY + dt.timedelta(weeks=week, days=weekday)


def add_gear_missing_column(con: duckdb.DuckDBPyConnection) -> None:
    """`gear.missing` (Strava answered 404 for the gear id), for warehouses created before it existed."""
    con.execute("alter table gear add column if not exists missing boolean default false")


class TrainingLog:
    """Collects activities, gear, splits and stream features, then loads and builds."""

    def __init__(self, con: duckdb.DuckDBPyConnection, athlete_id: int = 1) -> None:
        self.con = con
        self.athlete_id = athlete_id
        self.activities: list[dict[str, Any]] = []
        self.gear: list[dict[str, Any]] = []
        self.splits: list[dict[str, Any]] = []
        self.streams: list[dict[str, Any]] = []
        add_gear_missing_column(con)

    # --- building rows --------------------------------------------------------------

    def activity(
        self,
        when: dt.date | dt.datetime,
        km: float = 0.0,
        minutes: float | None = None,
        sport_type: str = "Run",
        *,
        pace_s_per_km: float = 330.0,
        spm: float | None = 170.0,
        hr: float | None = 145.0,
        gear_id: str | None = "g1",
        name: str = "Morning Run",
        description: str = "",
        elevation_m: float = 20.0,
        athlete_id: int | None = None,
    ) -> int:
        """Add one activity (a run by default, 07:00 local) and return its id."""
        start = when if isinstance(when, dt.datetime) else dt.datetime.combine(when, dt.time(7, 0))
        moving = round(minutes * 60) if minutes is not None else round(km * pace_s_per_km)
        activity_id = next(_ids)
        self.activities.append(
            {
                "activity_id": activity_id,
                "athlete_id": athlete_id or self.athlete_id,
                "name": name,
                "description": description,
                "sport_type": sport_type,
                "type": sport_type,
                "start_date": start.replace(tzinfo=dt.UTC),
                "start_date_local": start,
                "timezone": "(GMT+00:00) Europe/London",
                "distance": km * 1000.0,
                "moving_time": moving,
                "elapsed_time": moving,
                "total_elevation_gain": elevation_m,
                "average_speed": (km * 1000.0 / moving) if moving else 0.0,
                "average_cadence": spm / 2 if spm is not None else None,
                "average_heartrate": hr,
                "gear_id": gear_id,
                "trainer": False,
                "manual": False,
                "has_detail": True,
            }
        )
        return activity_id

    def run(self, when: dt.date | dt.datetime, km: float, **kw: Any) -> int:
        return self.activity(when, km, **kw)

    def history_from(self, when: dt.date) -> int:
        """A walk that starts the athlete's history on `when` without touching any run rule
        (window rules wait until the history covers their window: rule_readiness)."""
        return self.activity(when, 2.0, 30, "Walk", spm=None, hr=None, gear_id=None, name="Evening Walk")

    def strength(self, when: dt.date | dt.datetime, minutes: float = 30, sport_type: str = "WeightTraining") -> int:
        return self.activity(when, 0.0, minutes, sport_type, spm=None, gear_id=None, name="Core session")

    def shoe(
        self, gear_id: str, km: float, name: str | None = None, retired: bool = False, gear_type: str = "shoe"
    ) -> None:
        self.gear.append(
            {
                "gear_id": gear_id,
                "athlete_id": self.athlete_id,
                "name": name or f"Shoe {gear_id}",
                "brand_name": "Brand",
                "model_name": "Model",
                "gear_type": gear_type,
                "distance": km * 1000.0,
                "retired": retired,
                "is_primary": False,
                "missing": False,
            }
        )

    def missing_shoe(self, gear_id: str) -> None:
        """A gear id Strava answered 404 for: recorded as a shoe with no name and no total."""
        self.gear.append(
            {
                "gear_id": gear_id,
                "athlete_id": self.athlete_id,
                "name": None,
                "brand_name": None,
                "model_name": None,
                "gear_type": "shoe",
                "distance": None,
                "retired": None,
                "is_primary": None,
                "missing": True,
            }
        )

    def km_splits(self, activity_id: int, paces: list[float]) -> None:
        """Full-kilometre splits with the given paces (s/km)."""
        for i, pace in enumerate(paces, start=1):
            self.splits.append(
                {
                    "activity_id": activity_id,
                    "athlete_id": self.athlete_id,
                    "split": i,
                    "distance": 1000.0,
                    "elapsed_time": round(pace),
                    "moving_time": round(pace),
                    "average_speed": 1000.0 / pace,
                    "average_heartrate": 145.0,
                }
            )

    def thirds(
        self,
        activity_id: int,
        spm: tuple[float, float] = (170.0, 170.0),
        pace: tuple[float, float] = (330.0, 330.0),
        hr: tuple[float, float] = (140.0, 145.0),
    ) -> None:
        """Stream features: first-third and last-third cadence, pace and heart rate."""
        self.streams.append(
            {
                "activity_id": activity_id,
                "athlete_id": self.athlete_id,
                "sample_count": 3000,
                "duration_s": 3000.0,
                "first_third_spm": spm[0],
                "last_third_spm": spm[1],
                "first_third_pace_s_per_km": pace[0],
                "last_third_pace_s_per_km": pace[1],
                "first_third_hr": hr[0],
                "last_third_hr": hr[1],
                "cadence_samples": 3000,
                "heartrate_samples": 3000,
            }
        )

    # --- loading and reading ----------------------------------------------------------

    def load(self) -> None:
        """Bulk-insert everything collected so far (by column name) and forget it."""
        for table, rows in (
            ("activities", self.activities),
            ("gear", self.gear),
            ("splits", self.splits),
            ("stream_features", self.streams),
        ):
            if rows:
                frame = pd.DataFrame(rows)  # noqa: F841 - read by DuckDB's replacement scan
                self.con.execute(f"insert into {table} by name select * from frame")
            rows.clear()

    def build(self, as_of: dt.date = AS_OF) -> BuildReport:
        self.load()
        return build_models(self.con, as_of=as_of)

    def override(self, rule_id: str, param: str, value: float) -> None:
        set_override(self.con, self.athlete_id, rule_id, param, value)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def flags(self, rule_id: str) -> list[dict[str, Any]]:
        """The rule's risk_flags rows, metrics parsed, in week order."""
        found = self.rows(
            "select * from risk_flags where rule_id = ? and athlete_id = ? order by week_start",
            [rule_id, self.athlete_id],
        )
        for row in found:
            row["metrics"] = json.loads(row["metrics"])
        return found

    def flag_in_week(self, rule_id: str, week: int) -> dict[str, Any] | None:
        matches = [f for f in self.flags(rule_id) if f["week_start"] == day(week)]
        return matches[0] if matches else None


@pytest.fixture
def log(con: duckdb.DuckDBPyConnection) -> TrainingLog:
    return TrainingLog(con)


def steady_runner(log: TrainingLog, weeks: int = 12, start: dt.date = MONDAY) -> TrainingLog:
    """A runner who trains steadily: two pairs under 400 km, 170 spm, warm-ups, a weekly trail
    run and strength session, no spikes, no pain notes. Starts on a Sunday with the long run;
    `start` is the Monday of the first week."""

    def day(week: int, weekday: int = 0) -> dt.date:
        return start + dt.timedelta(weeks=week, days=weekday)

    log.shoe("g1", 300.0, "Daily trainer")
    log.shoe("g2", 250.0, "Trail shoe")
    log.strength(day(0, 5))
    first_long = log.run(day(0, 6), 14.0, gear_id="g2", name="Long run")
    log.km_splits(first_long, [365] + [330] * 13)
    for week in range(1, weeks + 1):
        log.strength(day(week, 0))
        for weekday, km, shoe, sport in ((1, 8.0, "g1", "Run"), (3, 8.0, "g2", "TrailRun"), (5, 6.0, "g1", "Run")):
            run_id = log.run(day(week, weekday), km, gear_id=shoe, sport_type=sport)
            log.km_splits(run_id, [365] + [330] * (int(km) - 1))
        long_id = log.run(day(week, 6), 14.0, gear_id="g2", name="Long run")
        log.km_splits(long_id, [365] + [330] * 13)
        log.thirds(long_id, spm=(171.0, 169.0), pace=(330.0, 334.0))
    return log
