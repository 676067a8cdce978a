"""Weekly load and the spike rule agree with a plain-Python reading of the same runs.

The spike rule judges a week only once the history covers the 30 days before its Monday (the
week's Sunday is at least 37 days, both counted, after the first activity: rule_readiness)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from conftest import MONDAY, TrainingLog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.warehouse import init_schema

runs_strategy = st.lists(
    st.tuples(st.integers(min_value=0, max_value=70 * 24 - 1), st.floats(min_value=1.0, max_value=30.0)),
    min_size=1,
    max_size=25,
    unique_by=lambda r: r[0],
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=runs_strategy)
def test_weekly_km_and_spikes_match_a_python_oracle(tmp_path: Path, runs: list[tuple[int, float]]) -> None:
    path = tmp_path / f"w{abs(hash(tuple(runs)))}.duckdb"
    con = duckdb.connect(str(path))
    init_schema(con)
    log = TrainingLog(con)
    starts = []
    for hour, km in runs:
        start = dt.datetime.combine(MONDAY, dt.time()) + dt.timedelta(hours=hour)
        km = round(km, 2)
        log.run(start, km)
        starts.append((start, km))
    log.build()

    weekly = {r["week_start"]: r["distance_km"] for r in log.rows("select week_start, distance_km from weekly_load")}
    expected: dict[dt.date, float] = {}
    for start, km in starts:
        week = start.date() - dt.timedelta(days=start.weekday())
        expected[week] = expected.get(week, 0.0) + km
    assert set(expected) <= set(weekly)
    for week, km in weekly.items():
        assert abs(km - expected.get(week, 0.0)) < 1e-9

    spikes: dict[dt.date, float] = {}
    first_day = min(s.date() for s, _ in starts)
    for start, km in starts:
        previous = [k for s, k in starts if start - dt.timedelta(days=30) <= s < start]
        week = start.date() - dt.timedelta(days=start.weekday())
        history_days = (week + dt.timedelta(days=6) - first_day).days + 1
        if previous and history_days >= 37 and round(km / max(previous), 4) > 1.10:
            spikes[week] = max(spikes.get(week, 0.0), round(km / max(previous), 4))
    flagged = {f["week_start"]: f["metrics"]["ratio"] for f in log.flags("distance.single_run_spike")}
    assert flagged == spikes
    con.close()
    path.unlink()
