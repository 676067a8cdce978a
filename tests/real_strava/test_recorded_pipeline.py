"""The whole pipeline (register, sync, build, digest) over a real runner's recorded Strava data.

Specification: what real Strava sent reaches the warehouse as sent, and nothing real is lost:
every run of the lookback window with its recorded distance and its detail, the marathon's 43
splits, cadence that Strava did not send stays unknown (null, never 0), private, followers-only,
manual, treadmill and zero-distance activities are kept and counted like any other, payloads
from before `sport_type` existed get one from `type`, and Strava's list-shaped streams are
summarised like keyed ones.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from real_strava_support import RUN_TYPES, rows, scalar, sport, start

from pipeline.strava_stub.recorded import (
    ATHLETE_ID,
    FOLLOWERS_ONLY_ID,
    MARATHON_ID,
    PRIVACY_IDS,
    TYPE_ONLY_IDS,
)

# slack-strava's manual "run" of 1 mile in exactly 1 hour (37:17 min/km, typed in by hand, no
# sensor): the pace bound judges sensors, so a manual entry is kept whatever its pace.
MANUAL_SLOW_ENTRY = 1991813808


def test_registration_and_sync_succeed_for_the_recorded_runner(recorded_run):
    assert recorded_run.registered[0] == ATHLETE_ID
    [result] = recorded_run.syncs[0]
    assert result.status == "ok", result.summary()
    assert result.pending == 0
    assert recorded_run.build.models.models


def test_every_recorded_run_in_the_lookback_window_lands_with_its_recorded_distance(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    window = [a for a in world.runs_since(world.lookback_start + timedelta(minutes=10))]
    assert len(window) >= 50  # 47 of the runner's own plus the marathon, type-only and privacy runs
    got = dict(rows(s, "select activity_id, distance from activities where has_detail"))
    missing = [a["id"] for a in window if a["id"] not in got]
    assert missing == []
    assert {a["id"]: got[a["id"]] for a in window} == {a["id"]: a["distance"] for a in window}
    assert scalar(s, "select count(*) from stream_features s join activities a using (activity_id)") >= 1


def test_every_recorded_activity_reaches_activities(recorded_run):
    """All 1,135 activities (the 1,132 of the runner's list and the three adopted privacy cases)."""
    s, world = recorded_run.settings, recorded_run.world
    recorded = {a["id"]: a for a in world.athlete_record.activities}
    got = {i: (d, detailed) for i, d, detailed in rows(s, "select activity_id, distance, has_detail from activities")}
    assert sorted(set(recorded) - set(got)) == []
    # Runs in the window carry their detail's distance; the rest the list summary's (a recorded
    # trainer ride says 0 m in the list and 101.5 km in its detail, and only runs get details).
    expected = {
        i: (a["distance"] if got[i][1] else world.summaries.get(i, a)["distance"], got[i][1])
        for i, a in recorded.items()
    }
    assert got == expected


def test_the_marathon_keeps_its_43_recorded_splits(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    marathon = next(a for a in world.athlete_record.activities if a["id"] == MARATHON_ID)
    assert len(marathon["splits_metric"]) == 43
    got = rows(s, "select split, distance, moving_time from splits where activity_id = ? order by split", [MARATHON_ID])
    assert got == [(x["split"], x["distance"], x["moving_time"]) for x in marathon["splits_metric"]]
    assert scalar(s, "select distance from activities where activity_id = ?", [MARATHON_ID]) == 42268.1


def test_cadence_strava_did_not_send_stays_null_never_zero(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    assert scalar(s, "select average_cadence is null from activities where activity_id = ?", [MARATHON_ID])
    without = [i for i, a in world.summaries.items() if a.get("average_cadence") is None]
    assert len(without) > 100
    got = dict(rows(s, "select activity_id, average_cadence from activities"))
    assert {i: got.get(i, "missing") for i in without} == dict.fromkeys(without)
    assert scalar(s, "select count(*) from activities where average_cadence = 0") == 0


def test_private_followers_only_manual_treadmill_and_zero_distance_activities_are_kept(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    summaries = world.summaries
    kinds = {
        "private": [i for i, a in summaries.items() if a.get("private")],
        "followers_only": [i for i, a in summaries.items() if a.get("visibility") == "followers_only"],
        "manual": [i for i, a in summaries.items() if a.get("manual")],
        "treadmill": [i for i, a in summaries.items() if a.get("trainer") and sport(a) in RUN_TYPES],
        "zero_distance": [i for i, a in summaries.items() if not a.get("distance")],
    }
    assert all(kinds.values()), kinds
    stored = {r[0]: r[1:] for r in rows(s, "select activity_id, manual, trainer, distance from activities")}
    for kind, ids in kinds.items():
        assert [i for i in ids if i not in stored] == [], kind
    assert all(stored[i][0] for i in kinds["manual"])
    assert all(stored[i][1] for i in kinds["treadmill"])
    assert all(stored[i][2] == 0 for i in kinds["zero_distance"])
    assert set(PRIVACY_IDS) <= set(stored)


def test_a_manual_entry_is_kept_whatever_its_pace(recorded_run):
    s = recorded_run.settings
    assert scalar(s, "select count(*) from activities where activity_id = ? and manual", [MANUAL_SLOW_ENTRY]) == 1


def test_each_week_counts_every_recorded_run_of_that_week(recorded_run):
    """Private, manual and treadmill runs count like any other: runs and km per local week."""
    s, world = recorded_run.settings, recorded_run.world
    first_week = world.lookback_start.date()
    expected: dict[date, list[float]] = {}
    for a in world.athlete_record.activities:
        day = date.fromisoformat(a["start_date_local"][:10])
        week = day - timedelta(days=day.weekday())
        if sport(a) in RUN_TYPES and week >= first_week:
            expected.setdefault(week, []).append(a["distance"])
    got = {
        w: (n, km)
        for w, n, km in rows(
            s, "select week_start, runs, distance_km from weekly_load where athlete_id = ?", [ATHLETE_ID]
        )
    }
    for week, distances in sorted(expected.items()):
        assert got[week][0] == len(distances), week
        assert got[week][1] == pytest.approx(sum(distances) / 1000, abs=0.01), week


def test_payloads_with_type_only_get_a_sport_type(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    type_only = [i for i, a in world.summaries.items() if "sport_type" not in a]
    assert set(TYPE_ONLY_IDS) | set(PRIVACY_IDS) <= set(type_only)
    got = dict(rows(s, "select activity_id, sport_type from activities"))
    assert {i: got.get(i) for i in type_only} == {i: world.summaries[i]["type"] for i in type_only}
    # the recorded type-only detail brings its 12 splits
    assert scalar(s, "select count(*) from splits where activity_id = ?", [TYPE_ONLY_IDS[0]]) == 12


def test_list_shaped_streams_produce_stream_features(recorded_run):
    s = recorded_run.settings
    row = rows(
        s,
        """select sample_count, duration_s, first_third_pace_s_per_km, last_third_pace_s_per_km,
                  first_third_hr, last_third_hr, first_third_spm, cadence_samples
           from stream_features where activity_id = ?""",
        [FOLLOWERS_ONLY_ID],
    )
    assert len(row) == 1
    samples, duration, pace1, pace3, hr1, hr3, spm1, cadence_samples = row[0]
    assert samples == 200 and duration == pytest.approx(975, abs=5)
    assert 240 < pace1 < 480 and 240 < pace3 < 480  # about 5:25/km, as recorded
    assert 100 < hr1 < 200 and 100 < hr3 < 200
    assert spm1 is None and cadence_samples == 0  # the recording has no cadence: unknown, not 0


def test_streams_without_a_time_series_are_landed_and_summarise_to_nothing(recorded_run):
    """The marathon's recorded streams hold only `distance`: kept in landing, no features row."""
    s = recorded_run.settings
    assert (
        scalar(s, "select count(*) from landing where endpoint = 'streams' and object_id = ?", [str(MARATHON_ID)]) == 1
    )
    assert scalar(s, "select count(*) from stream_features where activity_id = ?", [MARATHON_ID]) == 0


def test_every_shoe_the_runs_used_is_in_gear_and_retired_shoes_say_so(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    used = {a["gear_id"] for a in world.summaries.values() if a.get("gear_id")}
    got = dict(rows(s, "select gear_id, retired from gear"))
    assert sorted(used - set(got)) == []
    assert got["g3423618"] is True  # the marathon shoe, retired in its recorded detail
    assert {g for g, retired in got.items() if not retired} >= {s["id"] for s in world.athlete_record.profile["shoes"]}


def test_no_real_activity_is_quarantined(recorded_run):
    s = recorded_run.settings
    open_rows = rows(
        s,
        """select table_name, record_key, failed_expectations from quarantine
           where released_at is null and superseded_by is null order by all""",
    )
    assert open_rows == []


def test_the_digest_of_the_last_complete_week_is_in_the_outbox(recorded_run):
    s, world = recorded_run.settings, recorded_run.world
    [result] = recorded_run.digest.results
    assert result.status == "sent", result.error
    assert result.path is not None and str(result.path).endswith(f"{ATHLETE_ID}.eml")
    week = result.week_start
    runs = [
        a
        for a in world.runs_since(world.lookback_start)
        if week <= date.fromisoformat(a["start_date_local"][:10]) < week + timedelta(days=7)
    ]
    assert scalar(s, "select runs from weekly_load where week_start = ?", [week]) == len(runs)
    assert runs, "the newest recorded week lands in the last complete week or the current one"
    assert start(max(runs, key=start)).date() >= week
