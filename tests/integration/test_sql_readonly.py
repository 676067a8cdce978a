"""`backstride sql`: read-only ad-hoc queries on the warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import duckdb
import pytest

from pipeline.config import load_settings
from pipeline.query import QueryRefused, run_query, to_csv, to_json
from pipeline.warehouse import writer
from tests.lake_support import open_lake


@pytest.fixture
def settings(tmp_path):
    s = load_settings({"BACKSTRIDE_HOME": str(tmp_path)})
    with writer(s) as con:
        con.execute("insert into athletes (athlete_id, email, timezone) values (7, 'r@example.com', 'Europe/Oslo')")
        con.execute(
            """insert into activities (activity_id, athlete_id, name, sport_type, start_date, start_date_local, distance)
               values (1, 7, 'Tempo', 'Run', '2026-11-20 07:00:00+00', '2026-11-20 08:00:00', 10000.0)"""
        )
    return s


@pytest.mark.parametrize(
    "query",
    [
        "insert into athletes (athlete_id, email) values (8, 'x@y')",
        "update activities set distance = 0",
        "delete from activities",
        "drop table activities",
        "create table evil as select 1",
        "alter table activities add column x int",
        "copy activities to '/tmp/backstride-leak.csv'",
        "copy (select 1) to '/tmp/backstride-leak.csv'",
        "attach '/tmp/backstride-other.duckdb' as other",
        "detach memory",
        "install httpfs",
        "load httpfs",
        "pragma enable_external_access",
        "set enable_external_access = true",
        "reset threads",
        "checkpoint",
        "export database '/tmp/backstride-export'",
        "begin transaction",
        "vacuum",
        "select 1; delete from activities",
        "select 1; select 2",
        "",
    ],
)
def test_writes_and_escapes_are_refused(settings, query):
    with pytest.raises(QueryRefused):
        run_query(settings, query)
    assert run_query(settings, "select count(*) from activities").rows == [(1,)]


def test_reading_files_from_a_select_is_refused(settings, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with pytest.raises(QueryRefused):
        run_query(settings, f"select * from read_csv('{secret}')")


def test_select_returns_rows_and_json_is_an_array_of_objects(settings):
    result = run_query(settings, "select activity_id, name, start_date_local, distance / 1000 as km from activities")
    assert result.columns == ["activity_id", "name", "start_date_local", "km"]
    assert json.loads(to_json(result)) == [
        {"activity_id": 1, "name": "Tempo", "start_date_local": "2026-11-20T08:00:00", "km": 10.0}
    ]
    assert to_csv(result).splitlines() == ["activity_id,name,start_date_local,km", "1,Tempo,2026-11-20T08:00:00,10.0"]


def test_readers_fall_back_to_the_replica_while_another_process_writes(settings, tmp_path):
    ready = tmp_path / "ready"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, pathlib, sys, time\n"
            "con = duckdb.connect(sys.argv[1])\n"
            "con.execute(\"insert into athletes (athlete_id, email) values (9, 'w@example.com')\")\n"
            "pathlib.Path(sys.argv[2]).touch()\n"
            "time.sleep(30)\n",
            str(settings.warehouse_path),
            str(ready),
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        with pytest.raises(duckdb.IOException):
            open_lake(settings, read_only=True)  # locked by the writer
        assert run_query(settings, "select count(*) from athletes").rows == [(1,)]  # the replica answers
    finally:
        holder.kill()
        holder.wait()
