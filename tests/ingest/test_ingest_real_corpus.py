"""Every real activity body recorded from Strava (../shared/real-strava) lands and passes the
activity suite, except the few that are genuinely invalid, each named here with its reason.

Each recording (one cassette or JSON file) is one sync batch: `land` + `ingest_pending` into a
real DuckDB file with the shipped suites, so every version of every activity is validated.
The recordings are read where they lie; the test skips when the shared folder is absent.
"""

from __future__ import annotations

import itertools
import json

import duckdb
import pytest
from ingest_corpus import activity_bodies

from pipeline.loading import LandingItem, ingest_pending, land
from tests.lake_support import open_lake

pytestmark = pytest.mark.slow

RUBY_ATHLETE = 26462176  # the runner of dblock/strava-ruby-client's recordings

# Genuinely invalid activities in the recordings, with why. Nothing else may be held back.
INVALID_ACTIVITIES: dict[int, list[str]] = {
    # None. slack-strava's manual "Run" of 1 mile in exactly one hour (1991813808, 37:17 min/km)
    # is the runner's own typed-in record, not a sensor reading: the pace bound skips manual
    # entries, so it is kept (tests/real_strava: test_a_manual_entry_is_kept_whatever_its_pace).
}
INVALID_ELEMENTS = {
    # the ruby client's activity_with_fake_id cassette: Strava answered a made-up id of 30 digits
    # with a copy of the NYC marathon; no 64-bit key can hold it.
    "activity:194641753419464175341946417534": ["activity_id_out_of_range"],
}
INVALID_SPLITS = {
    # models/detailed_activities/ride.json is trimmed to its first split (1,001.5 m of 28,099 m):
    # the splits cannot add up to the ride.
    "1493471377:1": ["splits_add_up_to_activity_distance"],
}


def athlete_of(text: str) -> int:
    """The owner named in a body (the first element's athlete for a page)."""
    try:
        body = json.loads(text)
    except ValueError:
        return RUBY_ATHLETE
    if isinstance(body, list):
        body = body[0] if body else {}
    owner = body.get("athlete") if isinstance(body, dict) else None
    return int(owner["id"]) if isinstance(owner, dict) and isinstance(owner.get("id"), int) else RUBY_ATHLETE


@pytest.fixture(scope="module")
def corpus_warehouse(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    # profile and shoes first, as onboarding fetches them, then every recording in turn
    bodies = sorted(activity_bodies(), key=lambda b: b.endpoint not in ("gear", "athlete"))  # skips if absent
    con = open_lake(tmp_path_factory.mktemp("corpus"))
    from pipeline.warehouse import init_schema

    init_schema(con)
    for source, group in itertools.groupby(bodies, key=lambda b: b.source.split("#")[0]):
        group = list(group)
        owner = RUBY_ATHLETE if group[0].endpoint in ("gear", "athlete") else athlete_of(group[0].text)
        items = [LandingItem.from_text(b.endpoint, b.object_id or owner, b.text) for b in group]
        land(con, owner, source, items)
        ingest_pending(con)
    yield con
    con.close()


def every_quarantine_row(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, set[str]]:
    """record_key -> every expectation it ever failed, open or superseded."""
    out: dict[str, set[str]] = {}
    for key, failed in con.execute(
        "select record_key, failed_expectations from quarantine where table_name = ?", [table]
    ).fetchall():
        out.setdefault(key, set()).update(failed)
    return out


def test_every_recording_lands_whole(corpus_warehouse):
    con = corpus_warehouse
    pages, elements = con.execute(
        "select count(*), sum(json_array_length(payload)) from landing where endpoint = 'activities_page'"
    ).fetchone()
    assert pages > 60 and elements > 2300  # the runner's 1,132 summaries twice over, and the rest
    assert con.execute("select count(*) from landing where payload is null").fetchone()[0] == 0


def test_no_real_valid_activity_is_quarantined(corpus_warehouse):
    con = corpus_warehouse
    held = every_quarantine_row(con, "activities")
    shoes = {g for (g,) in con.execute("select gear_id from gear").fetchall()}

    # A run whose shoe was never fetched in these recordings waits for it (the fetch queue's
    # job, not a bound): that is the only other reason a real activity is held back.
    waiting = {}
    for key, failed in held.items():
        gear_id = con.execute(
            "select any_value(row_json->>'gear_id') from quarantine where record_key = ? and table_name = 'activities'",
            [key],
        ).fetchone()[0]
        if "run_gear_exists" in failed:
            assert gear_id not in shoes, f"activity {key} held back for a shoe that is loaded"
            waiting[key] = failed - {"run_gear_exists"}
        else:
            waiting[key] = failed
    assert {int(k): sorted(v) for k, v in waiting.items() if v} == INVALID_ACTIVITIES
    assert every_quarantine_row(con, "landing") == {k: set(v) for k, v in INVALID_ELEMENTS.items()}


def test_strava_rounding_of_moving_time_is_tolerated(corpus_warehouse):
    # two real runs of the ruby client's athlete: moving time one second over elapsed time
    con = corpus_warehouse
    over = dict(
        con.execute(
            """select activity_id, moving_time - elapsed_time from activities
               where activity_id in (3982660024, 3982660424)
               union all
               select activity_id, cast(row_json->>'moving_time' as int) - cast(row_json->>'elapsed_time' as int)
               from quarantine where table_name = 'activities' and activity_id in (3982660024, 3982660424)"""
        ).fetchall()
    )
    assert over == {3982660024: 1, 3982660424: 1}
    for (failed,) in con.execute(
        "select failed_expectations from quarantine where table_name = 'activities'"
    ).fetchall():
        assert "moving_time_within_elapsed_time" not in failed


def test_splits_are_held_back_only_with_their_activity_or_when_genuinely_inconsistent(corpus_warehouse):
    held = every_quarantine_row(corpus_warehouse, "splits")
    own = {k: sorted(v - {"split_activity_exists"}) for k, v in held.items() if v - {"split_activity_exists"}}
    assert own == INVALID_SPLITS


def test_the_marathon_detail_loads_with_its_splits(corpus_warehouse):
    con = corpus_warehouse
    marathon = con.execute(
        "select distance, has_detail, gear_id from activities where activity_id = 1946417534"
    ).fetchone()
    assert marathon == (42268.1, True, "g3423618")
    assert con.execute("select count(*) from splits where activity_id = 1946417534").fetchone()[0] == 43
