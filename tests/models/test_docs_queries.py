"""Every fenced sql block in docs/sql.md runs against a built warehouse and returns rows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import TrainingLog, steady_runner

DOC = Path(__file__).resolve().parents[2] / "docs" / "sql.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> TrainingLog:
    import duckdb

    from pipeline.warehouse import init_schema

    con = duckdb.connect(str(tmp_path_factory.mktemp("docs") / "warehouse.duckdb"))
    init_schema(con)
    # Dated up to last week, so that questions about "this year" or "this week" have answers.
    today = dt.date.today()
    start = today - dt.timedelta(days=today.weekday(), weeks=12)

    def day(week: int, weekday: int = 0) -> dt.date:
        return start + dt.timedelta(weeks=week, days=weekday)

    log = steady_runner(TrainingLog(con), weeks=10, start=start)
    con.execute("insert into athletes (athlete_id, firstname) values (1, 'Ada')")
    log.shoe("g3", 820.0, "Worn out")
    log.run(day(11, 2), 30.0, gear_id="g3", minutes=150, description="sore back after this")
    run_id = log.run(day(11, 4), 12.0, gear_id="g3", minutes=70)
    log.thirds(run_id, spm=(176.0, 160.0))
    log.run(today, 5.0, gear_id="g1")  # so this year and this week are never empty
    log.build(as_of=today)
    return log


def test_the_doc_has_a_dozen_queries() -> None:
    assert len(QUERIES) >= 12


@pytest.mark.parametrize("sql", QUERIES, ids=[f"query-{i + 1}" for i in range(len(QUERIES))])
def test_documented_query_runs(built: TrainingLog, sql: str) -> None:
    rows = built.con.execute(sql).fetchall()
    assert rows, "the example data should give every documented query something to show"
