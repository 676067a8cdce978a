"""Landing and deriving never fail on a body: whatever Strava (or anything claiming to be it)
sends is landed, every element that can become a row does, and every one that cannot is in
`quarantine` with a reason, while the body stays in `landing` exactly as sent.

Bodies are written here as JSON text, the way they arrive over HTTP, and go through
`land` + `ingest_pending` into a real DuckDB file with the shipped suites.
"""

from __future__ import annotations

import json
import zlib

import duckdb

from pipeline.loading import LandingItem, ingest_pending, land

ATHLETE = 42


def start_for(activity_id: object) -> str:
    """A start time that is the same on every run and differs between ids: two runs with the same
    start would be one run recorded twice. (`hash()` of text changes per process, so it is not used.)"""
    n = zlib.crc32(str(activity_id).encode())
    return f"2026-11-{10 + n % 15:02d}T{6 + (n // 15) % 12:02d}:{(n // 180) % 60:02d}:00Z"


def summary(activity_id: object, **fields: object) -> dict:
    """A plausible recent 10 km run summary, as Strava lists it."""
    body = {
        "id": activity_id,
        "name": "Morning Run",
        "sport_type": "Run",
        "type": "Run",
        "start_date": start_for(activity_id),
        "start_date_local": "2026-11-10T08:00:00Z",
        "distance": 10000.0,
        "moving_time": 3000,
        "elapsed_time": 3100,
        "average_cadence": 85.0,
        "average_heartrate": 150.0,
        "max_heartrate": 172.0,
        "gear_id": None,
        "trainer": False,
        "manual": False,
    }
    body.update(fields)
    return body


def ingest(con: duckdb.DuckDBPyConnection, *bodies: tuple[str, object, str], batch: str = "b1") -> None:
    """Land (endpoint, object id, text) bodies as one sync batch, then derive and validate."""
    land(con, ATHLETE, batch, [LandingItem.from_text(e, o, t) for e, o, t in bodies])
    ingest_pending(con)


def page(*elements: object) -> tuple[str, str, str]:
    return ("activities_page", "list", json.dumps(elements))


def activity(con: duckdb.DuckDBPyConnection, activity_id: int) -> dict | None:
    cur = con.execute("select * from activities where activity_id = ?", [activity_id])
    row = cur.fetchone()
    return None if row is None else dict(zip([d[0] for d in cur.description], row, strict=True))


def quarantined(con: duckdb.DuckDBPyConnection, table: str = "landing") -> dict[str, list[str]]:
    rows = con.execute(
        "select record_key, failed_expectations from quarantine where table_name = ? and released_at is null",
        [table],
    ).fetchall()
    return {k: list(f) for k, f in rows}


def loaded_ids(con: duckdb.DuckDBPyConnection) -> set[int]:
    return {i for (i,) in con.execute("select activity_id from activities").fetchall()}


# --- 1. broken unicode --------------------------------------------------------------------


def test_a_name_ending_in_a_lone_surrogate_is_landed_as_sent_and_the_run_still_loads(con):
    text = json.dumps([summary(1001, name="Run \ud83d"), summary(1002)])  # json writes the escape: "Run \ud83d"
    assert "\\ud83d" in text
    other = json.dumps(summary(2001, name="Evening Run"))

    ingest(con, ("activities_page", "list", text), ("activity_detail", 2001, other))

    raw, payload, error = con.execute(
        "select raw_text, payload::varchar, parse_error from landing where endpoint = 'activities_page'"
    ).fetchone()
    assert raw == text  # byte for byte what the server sent
    assert error is None  # the body was usable
    assert "\\ud83d" not in payload
    assert activity(con, 1001)["name"] == "Run \ufffd"  # the broken half-character, marked as such
    assert activity(con, 1001)["distance"] == 10000.0
    assert loaded_ids(con) == {1001, 1002, 2001}  # one bad body never stops the batch
    assert quarantined(con) == {}


def test_surrogate_pairs_and_escaped_backslashes_are_not_mistaken_for_lone_surrogates(con):
    name = "Run \U0001f600 C:\\ud83d"  # an emoji (a valid pair) and a literal backslash-u text
    text = json.dumps([summary(1003, name=name)])

    ingest(con, ("activities_page", "list", text))

    assert activity(con, 1003)["name"] == name
    assert con.execute("select raw_text from landing").fetchone()[0] is None  # stored as JSON, nothing repaired


def test_a_body_that_is_not_json_is_kept_as_text_with_the_reason_and_the_rest_loads(con):
    ingest(con, ("activity_detail", 1004, "<html>502 Bad Gateway</html>"), page(summary(1005)))

    raw, error = con.execute("select raw_text, parse_error from landing where endpoint = 'activity_detail'").fetchone()
    assert raw == "<html>502 Bad Gateway</html>"
    assert error.startswith("not JSON that DuckDB can store")
    assert loaded_ids(con) == {1005}


# --- 2. ids that cannot be keys -----------------------------------------------------------


def test_elements_without_a_usable_id_are_quarantined_with_a_reason_and_the_rest_of_the_page_loads(con):
    text = (
        "["
        + ", ".join(
            [
                json.dumps(summary(3001)),
                '{"id": 194641753419464175341946417534, "name": "fake id", "type": "Run"}',
                '{"id": 9223372036854775808, "name": "one past BIGINT"}',
                json.dumps(summary("3002")),
                json.dumps(summary(3003.5)),
                json.dumps(summary(True)),
                json.dumps(summary(-3004)),
                json.dumps(summary(0)),
                "7",
                '"a string"',
                "null",
                "[1, 2]",
                json.dumps({k: v for k, v in summary(1).items() if k != "id"}),
                json.dumps(summary(None)),
                json.dumps(summary(3005)),
            ]
        )
        + "]"
    )

    ingest(con, ("activities_page", "list", text))

    assert loaded_ids(con) == {3001, 3005}
    landing_id = con.execute("select landing_id from landing").fetchone()[0]
    assert quarantined(con) == {
        "activity:194641753419464175341946417534": ["activity_id_out_of_range"],
        "activity:9223372036854775808": ["activity_id_out_of_range"],
        "activity:3002": ["activity_id_is_text"],
        "activity:3003.5": ["activity_id_not_an_integer"],
        "activity:true": ["activity_id_not_an_integer"],
        "activity:-3004": ["activity_id_not_positive"],
        "activity:0": ["activity_id_not_positive"],
        f"activities_page:{landing_id}:9": ["activity_not_an_object"],
        f"activities_page:{landing_id}:10": ["activity_not_an_object"],
        f"activities_page:{landing_id}:11": ["activity_not_an_object"],
        f"activities_page:{landing_id}:12": ["activity_not_an_object"],
        f"activities_page:{landing_id}:13": ["activity_id_missing"],
        f"activities_page:{landing_id}:14": ["activity_id_missing"],
    }
    # each quarantine row says why in words and holds the element; the page stays in landing
    reason, element = con.execute(
        """select row_json->>'reason', row_json->'element' from quarantine
           where record_key = 'activity:194641753419464175341946417534'"""
    ).fetchone()
    assert "too large for a 64-bit integer" in reason
    assert "194641753419464175341946417534" in element
    assert con.execute("select payload::varchar from landing").fetchone()[0] == text


def test_a_detail_whose_id_does_not_fit_is_quarantined_and_derives_no_splits(con):
    body = summary(194641753419464175341946417534, splits_metric=[{"split": 1, "distance": 1000.0}])

    ingest(con, ("activity_detail", 194641753419464175341946417534, json.dumps(body)), page(summary(3006)))

    assert quarantined(con) == {"activity:194641753419464175341946417534": ["activity_id_out_of_range"]}
    assert con.execute("select count(*) from splits").fetchone()[0] == 0
    assert quarantined(con, "splits") == {}
    assert loaded_ids(con) == {3006}


def test_the_same_bad_element_in_a_later_page_supersedes_its_older_quarantine_row(con):
    bad = {"id": "3007", "name": "text id"}
    ingest(con, page(bad, summary(3008)), batch="b1")
    ingest(con, page(bad, summary(3008, name="renamed")), batch="b2")

    rows = con.execute(
        "select batch_id, released_at is null from quarantine where record_key = 'activity:3007' order by batch_id"
    ).fetchall()
    assert rows == [("b1", False), ("b2", True)]  # one open row, however often the page is re-read


def test_an_activity_page_that_is_not_a_list_is_quarantined(con):
    ingest(con, ("activities_page", "list", '{"message": "Record Not Found", "errors": []}'), page(summary(3009)))

    landing_id = con.execute("select landing_id from landing where payload::varchar like '%message%'").fetchone()[0]
    assert quarantined(con) == {f"activities_page:{landing_id}:0": ["activities_page_not_a_list"]}
    assert loaded_ids(con) == {3009}


# --- 3. mixed types, unknown and missing fields, nulls ------------------------------------


def test_values_sent_as_other_types_are_read_as_what_they_mean(con):
    odd = summary(
        4001,
        gear_id=12345,  # a numeric gear id instead of "g12345"
        distance="10000.5",  # numbers as strings
        moving_time="3000",
        elapsed_time=3100.0,
        trainer="true",  # booleans as strings
        manual=0,
        workout_type="3",
        name=2026,  # a name that is a number
        brand_new_field={"nested": [1, 2, 3]},  # unknown fields are ignored
    )

    shoe = '{"id": 12345, "name": "Numbered shoe", "distance": 1000.0, "retired": false}'
    ingest(con, page(odd), ("gear", 12345, shoe))

    row = activity(con, 4001)
    assert row["gear_id"] == "12345"
    assert row["distance"] == 10000.5
    assert (row["moving_time"], row["elapsed_time"], row["workout_type"]) == (3000, 3100, 3)
    assert (row["trainer"], row["manual"]) == (True, False)
    assert row["name"] == "2026"


def test_unreadable_optional_fields_become_empty_and_the_run_still_counts(con):
    odd = summary(
        4002,
        average_cadence="fast",
        average_heartrate={"bpm": 150},
        max_heartrate=[172],
        trainer="yes",
        gear_id={"id": "g1"},
        total_elevation_gain=None,
    )
    del odd["start_date_local"]  # a missing optional field

    ingest(con, page(odd))

    row = activity(con, 4002)
    assert row is not None
    assert row["average_cadence"] is None and row["average_heartrate"] is None and row["max_heartrate"] is None
    assert row["trainer"] is None and row["gear_id"] is None and row["total_elevation_gain"] is None
    assert row["distance"] == 10000.0


def test_missing_or_unreadable_required_fields_are_quarantined_naming_the_field(con):
    nulls = {key: None for key in summary(0)} | {"id": 4003}
    unreadable = summary(4004, distance="ten km", start_date=20261110, moving_time=True)
    bare = {"id": 4005}

    ingest(con, page(nulls, unreadable, bare, summary(4006)))

    held = quarantined(con, "activities")
    assert set(held) == {"4003", "4004", "4005"}
    assert {"distance_not_null", "start_date_not_null", "moving_time_not_null", "sport_type_not_null"} <= set(
        held["4003"]
    )
    assert {"distance_not_null", "start_date_not_null", "moving_time_not_null"} <= set(held["4004"])
    assert "sport_type_not_null" not in held["4004"]
    assert loaded_ids(con) == {4006}


# --- 5. hostile variants -------------------------------------------------------------------


def test_nan_and_infinity_tokens_are_not_numbers(con):
    text = (
        "["
        + json.dumps({k: v for k, v in summary(5001).items() if k != "average_cadence"})[:-1]
        + ', "average_cadence": NaN, "max_speed": Infinity}, '
        + json.dumps(summary(5002))[:-1].replace('"distance": 10000.0', '"distance": -Infinity')
        + "}]"
    )

    ingest(con, ("activities_page", "list", text))

    row = activity(con, 5001)
    assert row["average_cadence"] is None and row["max_speed"] is None  # read as missing, not as NaN
    assert "distance_not_null" in quarantined(con, "activities")["5002"]


def test_negative_numbers_are_quarantined_by_the_bounds(con):
    ingest(con, page(summary(5003, distance=-5.0), summary(5004, moving_time=-60), summary(5005)))

    held = quarantined(con, "activities")
    assert "distance_within_bounds" in held["5003"]
    assert "moving_time_within_bounds" in held["5004"]
    assert loaded_ids(con) == {5005}


def test_deep_nesting_and_huge_strings_are_landed_and_derived(con):
    deep = "[" * 5000 + "]" * 5000
    detail = json.dumps(summary(5006))[:-1] + f', "laps": {deep}}}'
    huge_name = "x" * 2_000_000
    streams = '{"time": {"data": ' + deep + "}}"

    ingest(
        con,
        ("activity_detail", 5006, detail),
        ("streams", 5006, streams),
        page(summary(5007, name=huge_name, description="y" * 500_000)),
    )

    assert loaded_ids(con) == {5006, 5007}
    assert len(activity(con, 5007)["name"]) == 2_000_000
    assert con.execute("select count(*) from stream_features").fetchone()[0] == 0  # nothing usable, no crash
    assert con.execute("select count(*) from landing where parse_error is null").fetchone()[0] == 3


def test_repeated_ids_in_one_page_identical_copies_are_one_activity_differing_ones_are_held_back(con):
    first = summary(5008, name="first")
    ingest(con, page(summary(5009), summary(5009), first, summary(5008, name="second copy")))

    assert loaded_ids(con) == {5008, 5009}
    assert activity(con, 5008)["name"] == "first"
    assert quarantined(con) == {"activity:5008:copy2": ["activity_id_repeated_in_page"]}
    assert quarantined(con, "activities") == {}


def test_the_landing_order_is_the_order_of_arrival(con):
    # a page, then the detail fetched after it: the detail is the newer version
    ingest(
        con,
        page(summary(5010, sport_type="Ride", type="Ride", distance=40000.0)),
        ("activity_detail", 5010, json.dumps(summary(5010))),
        page(),
    )

    ids = [e for (e,) in con.execute("select endpoint from landing order by landing_id").fetchall()]
    assert ids == ["activities_page", "activity_detail", "activities_page"]
    assert activity(con, 5010)["sport_type"] == "Run"


def test_streams_and_gear_bodies_of_an_unreadable_shape_are_quarantined_with_a_reason(con) -> None:
    ingest(
        con,
        page(summary(1), summary(2), summary(3)),
        ("streams", "1", '"no streams here"'),
        ("streams", "2", json.dumps([{"type": "time", "data": [0, 1, 2]}, 7])),
        ("streams", "3", json.dumps({"distance": {"data": [0.0, 5.0, 10.0]}})),  # readable: distance only
        ("gear", "g9", "[1, 2]"),
    )

    # record keys are endpoint:object:landing_id, the landing row that holds the body
    landed = dict(
        con.execute(
            "select endpoint || ':' || object_id, landing_id from landing where endpoint <> 'activities_page'"
        ).fetchall()
    )
    assert quarantined(con) == {
        f"streams:1:{landed['streams:1']}": ["streams_not_an_object_or_list"],
        f"streams:2:{landed['streams:2']}": ["streams_unrecognised_shape"],
        f"gear:g9:{landed['gear:g9']}": ["gear_not_an_object"],
    }
    reasons = dict(con.execute("select record_key, row_json->>'reason' from quarantine").fetchall())
    assert reasons[f"streams:1:{landed['streams:1']}"] == "a streams body that is neither a JSON object nor a list"
    assert [activity(con, i) is not None for i in (1, 2, 3)] == [True, True, True]  # the runs still count
    assert con.execute("select count(*) from landing where endpoint in ('streams', 'gear')").fetchone() == (4,)
