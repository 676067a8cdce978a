"""Odd payloads served over HTTP by the bundled Strava-compatible server never fail a sync."""

from __future__ import annotations

import json

from sync_support import registered_on_stub

from pipeline.strava_stub.demo_data import DemoAthlete, World, summary_of, synthetic_world
from pipeline.sync import sync_all
from tests.lake_support import open_lake


def one_athlete_world() -> tuple[World, DemoAthlete]:
    """The smallest world these payloads need: one athlete with 20 activities."""
    world = synthetic_world(1, 20)
    return world, next(iter(world.athletes.values()))


def newest_run(athlete: DemoAthlete) -> dict:
    return max((a for a in athlete.activities if a["sport_type"] == "Run"), key=lambda a: a["start_date"])


def test_a_name_ending_in_a_lone_surrogate_does_not_fail_the_athlete(tmp_path, start_stub):
    world, athlete = one_athlete_world()
    newest = max(athlete.activities, key=lambda a: a["start_date"])
    newest["name"] = "Run \ud83d"
    server, s, _ = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)
    # the list page as a server would write it: the JSON escape "Run \\ud83d"
    text = json.dumps([summary_of(a) for a in sorted(athlete.activities, key=lambda a: a["start_date"])])
    assert "Run \\ud83d" in text
    server.inject("response", status=200, body=text, path=r"/athlete/activities$")
    server.inject("response", status=200, body=json.dumps(newest), path=rf"/activities/{newest['id']}$")

    [result] = sync_all(s)

    assert result.status == "ok", result
    with open_lake(s, read_only=True) as con:
        assert con.execute("select name from activities where activity_id = ?", [newest["id"]]).fetchone() == (
            "Run \ufffd",
        )
        assert con.execute("select count(*) from activities").fetchone()[0] == len(athlete.activities)
        kept = con.execute("select count(*) from landing where raw_text like '%Run \\ud83d%'").fetchone()[0]
        assert kept >= 1  # the body as the server sent it


def test_a_detail_nested_too_deep_for_the_json_decoder_does_not_fail_the_athlete(tmp_path, start_stub):
    world, athlete = one_athlete_world()
    newest = newest_run(athlete)
    server, s, _ = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)
    # valid JSON, but deeper than Python's decoder goes (DuckDB's JSON type holds it)
    body = json.dumps(newest)[:-1] + ', "laps": ' + "[" * 3000 + "]" * 3000 + "}"
    server.inject("response", status=200, body=body, path=rf"/activities/{newest['id']}$")

    [result] = sync_all(s)

    assert result.status == "ok", result
    with open_lake(s, read_only=True) as con:
        assert con.execute("select count(*) from activities").fetchone()[0] == len(athlete.activities)


def test_a_listed_run_with_an_id_too_large_for_bigint_is_quarantined_and_the_rest_syncs(tmp_path, start_stub):
    world, athlete = one_athlete_world()
    newest = newest_run(athlete)
    newest["id"] = 194641753419464175341946417534  # the fake id of the ruby client's recording
    _server, s, _ = registered_on_stub(tmp_path, start_stub, world, lookback_weeks=1)

    [result] = sync_all(s)

    assert result.status == "ok", result
    with open_lake(s, read_only=True) as con:
        assert con.execute("select count(*) from activities").fetchone()[0] == len(athlete.activities) - 1
        assert con.execute("select failed_expectations from quarantine where table_name = 'landing'").fetchall() == [
            (["activity_id_out_of_range"],)
        ]
