"""`backstride sql`: read-only ad-hoc queries on the warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from pipeline.config import load_settings
from pipeline.query import QueryRefused, run_query, to_csv, to_json
from pipeline.warehouse import writer


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
        "load '/tmp/backstride-evil.duckdb_extension'",
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


def test_a_reader_sees_the_last_commit_while_another_process_writes_and_never_blocks_it(settings, tmp_path):
    ready, go, done = tmp_path / "ready", tmp_path / "go", tmp_path / "done"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pathlib, sys, time\n"
            "from pipeline.config import load_settings\n"
            "from pipeline.warehouse import writer\n"
            "with writer(load_settings({'BACKSTRIDE_HOME': sys.argv[1]})) as con:\n"
            "    con.execute('begin')\n"
            "    con.execute(\"insert into athletes (athlete_id, email) values (9, 'w@example.com')\")\n"
            "    pathlib.Path(sys.argv[2]).touch()\n"
            "    deadline = time.monotonic() + 60\n"
            "    while not pathlib.Path(sys.argv[3]).exists() and time.monotonic() < deadline:\n"
            "        time.sleep(0.05)\n"
            "    con.execute('commit')\n"
            "pathlib.Path(sys.argv[4]).touch()\n",
            str(settings.home),
            str(ready),
            str(go),
            str(done),
        ]
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists()
        # mid-transaction: the reader answers from the last commit, without the writer's row
        assert run_query(settings, "select count(*) from athletes").rows == [(1,)]
        go.touch()
        assert holder.wait(timeout=60) == 0  # the writer's commit was not blocked by the reader
        assert done.exists()
        assert run_query(settings, "select count(*) from athletes").rows == [(2,)]
    finally:
        holder.kill()
        holder.wait()
