"""Every fenced sql block in docs/sql.md runs on a built warehouse, read-only, and returns rows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import TrainingLog, steady_runner

from pipeline.config import Settings
from pipeline.warehouse import connect_reader, init_schema
from tests.lake_support import open_lake

DOC = Path(__file__).resolve().parents[2] / "docs" / "sql.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """The read-only connection `backstride sql` uses, on a warehouse built from example runs."""
    home = tmp_path_factory.mktemp("docs")
    con = open_lake(home)
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
    con.close()
    reader = connect_reader(Settings(home=home))
    yield reader
    reader.close()


def test_the_doc_has_a_dozen_queries() -> None:
    assert len(QUERIES) >= 12


@pytest.mark.parametrize("sql", QUERIES, ids=[f"query-{i + 1}" for i in range(len(QUERIES))])
def test_documented_query_runs(reader: duckdb.DuckDBPyConnection, sql: str) -> None:
    rows = reader.execute(sql).fetchall()
    assert rows, "the example data should give every documented query something to show"
