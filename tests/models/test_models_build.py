"""The model build as a whole: the steady runner, the calendar, load maths, rebuilds, the runner."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import AS_OF, TrainingLog, day, steady_runner

from pipeline.models import SQL_DIR, ModelError, build_models, build_order, discover, references

MARTS = [
    "daily_load",
    "weekly_load",
    "recovery",
    "run_streaks",
    "shoe_status",
    "shoe_rotation",
    "form_fatigue",
    "surface_mix",
    "preparation",
    "strength_routine",
    "injury_signals",
    "risk_flags",
]


def snapshot(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    return con.execute(f"select * from {table} order by all").fetchall()


def test_a_steady_runner_gets_no_watch_or_warning(log: TrainingLog) -> None:
    steady_runner(log, weeks=12).build()
    flagged = log.rows("select week_start, rule_id, severity from risk_flags where severity <> 'info'")
    assert flagged == []
    assert log.rows("select count(*) as n from weekly_load") == [{"n": 13}]


def test_every_factor_has_a_rule_with_a_grade_and_a_source(log: TrainingLog) -> None:
    log.build()
    rules = log.rows(
        """select factor, count(distinct rule_id) as rules, bool_and(evidence in
               ('strong', 'moderate', 'limited', 'rule_of_thumb')) as graded, bool_and(source <> '') as sourced
           from rule_thresholds where rule_id <> 'load' group by factor order by factor"""
    )
    assert [r["factor"] for r in rules] == [
        "distance", "injury", "posture", "preparation", "shoes", "strength", "surface"
    ]  # fmt: skip
    assert all(r["graded"] and r["sourced"] for r in rules)


def test_risk_flags_columns_match_the_contract(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0)
    log.run(day(1, 1), 15.0, description="sore back")
    log.build()
    columns = log.rows("select column_name, data_type from information_schema.columns where table_name = 'risk_flags'")
    assert [(c["column_name"], c["data_type"]) for c in columns] == [
        ("athlete_id", "BIGINT"),
        ("week_start", "DATE"),
        ("factor", "VARCHAR"),
        ("rule_id", "VARCHAR"),
        ("severity", "VARCHAR"),
        ("evidence", "VARCHAR"),
        ("message", "VARCHAR"),
        ("metrics", "JSON"),
    ]
    weekdays = log.rows("select distinct isodow(week_start) as d from risk_flags")
    assert weekdays == [{"d": 1}]


def test_weeks_are_iso_weeks_in_local_time(log: TrainingLog) -> None:
    # Sunday 23:30 local in Auckland is Sunday 10:30 UTC: the run belongs to the week of that Sunday.
    log.con.execute("insert into athletes (athlete_id, timezone) values (1, 'Pacific/Auckland')")
    sunday_night = dt.datetime(2026, 1, 11, 23, 30)
    log.run(sunday_night, 10.0)
    log.activities[-1]["start_date_local"] = None  # only the UTC instant: the zone decides the day
    log.activities[-1]["start_date"] = dt.datetime(2026, 1, 11, 10, 30, tzinfo=dt.UTC)
    log.run(dt.datetime(2026, 1, 12, 0, 30), 5.0)  # Monday 00:30 local: next week
    log.build()
    weeks = log.rows("select week_start, runs from weekly_load order by week_start")
    assert weeks == [{"week_start": dt.date(2026, 1, 5), "runs": 1}, {"week_start": dt.date(2026, 1, 12), "runs": 1}]


def test_weekly_load_includes_weeks_without_runs(log: TrainingLog) -> None:
    log.run(day(0, 2), 10.0)
    log.run(day(3, 2), 8.0)
    log.build()
    weeks = log.rows("select week_start, runs, distance_km from weekly_load order by week_start")
    assert [(w["week_start"], w["runs"], w["distance_km"]) for w in weeks] == [
        (day(0), 1, 10.0),
        (day(1), 0, 0.0),
        (day(2), 0, 0.0),
        (day(3), 1, 8.0),
    ]
    assert log.rows("select count(*) as n from daily_load") == [{"n": 28}]


def test_weekly_load_ratios(log: TrainingLog) -> None:
    for week, km in enumerate([10.0, 20.0, 30.0, 40.0, 50.0]):
        log.run(day(week, 2), km)
    log.build()
    last = log.rows("select * from weekly_load order by week_start desc limit 1")[0]
    assert last["prev4_avg_km"] == 25.0 and last["change_vs_prev4"] == 2.0
    assert last["longest_run_km"] == 50.0 and last["run_days"] == 1


def test_acwr_follows_the_ewma_recursion_on_daily_load(log: TrainingLog) -> None:
    for week in range(8):
        for weekday, km in ((1, 6.0 + week), (3, 8.0), (6, 12.0 + week)):
            log.run(day(week, weekday), km, hr=140.0 + weekday)
    log.build()
    loads = [r["load"] for r in log.rows("select load from daily_load order by day")]
    acute = chronic = 0.0
    by_sunday = {}
    for i, load in enumerate(loads):
        acute = load * 2 / 8 + acute * (1 - 2 / 8)
        chronic = load * 2 / 29 + chronic * (1 - 2 / 29)
        if i % 7 == 6:
            by_sunday[day(i // 7)] = (acute, chronic)
    for week in log.rows("select week_start, acute_load, chronic_load, acwr from weekly_load"):
        acute, chronic = by_sunday[week["week_start"]]
        assert week["acute_load"] == pytest.approx(acute, rel=1e-9)
        assert week["chronic_load"] == pytest.approx(chronic, rel=1e-9)
        assert week["acwr"] == pytest.approx(acute / chronic, rel=1e-9)


def test_daily_load_is_heart_rate_weighted_minutes(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0, minutes=60, hr=165.0)
    log.run(day(0, 2), 10.0, minutes=60, hr=None)
    log.build()
    loads = log.rows("select day, load from daily_load where runs > 0 order by day")
    assert [r["load"] for r in loads] == [pytest.approx(66.0), pytest.approx(60.0)]


def test_run_streaks_count_consecutive_running_days(log: TrainingLog) -> None:
    for weekday in (0, 1, 2, 4, 5):
        log.run(day(0, weekday), 5.0)
    log.build()
    assert [r["days"] for r in log.rows("select days from run_streaks order by first_day")] == [3, 2]


def test_rebuilding_twice_gives_identical_tables(log: TrainingLog) -> None:
    steady_runner(log, weeks=6)
    log.run(day(7, 2), 25.0, description="sore knee", gear_id=None)
    log.build()
    first = {t: snapshot(log.con, t) for t in MARTS}
    log.build()
    assert {t: snapshot(log.con, t) for t in MARTS} == first


def test_a_rebuild_after_new_activities_changes_only_what_it_must(log: TrainingLog) -> None:
    steady_runner(log, weeks=8)
    log.build()
    weeks_before = snapshot(log.con, "weekly_load")
    flags_before = snapshot(log.con, "risk_flags")
    week_8 = "select distance_km from weekly_load where week_start = ?"
    km_before = log.rows(week_8, [day(8)])[0]["distance_km"]
    log.run(day(8, 2), 30.0, gear_id="g1")  # a spike in week 8
    log.build()
    weeks_after = snapshot(log.con, "weekly_load")
    flags_after = snapshot(log.con, "risk_flags")
    assert weeks_after[:-1] == weeks_before[:-1]
    assert log.rows(week_8, [day(8)])[0]["distance_km"] == km_before + 30.0
    assert [f for f in flags_after if f[1] < day(8)] == [f for f in flags_before if f[1] < day(8)]
    assert "distance.single_run_spike" in {f[3] for f in flags_after if f[1] == day(8)}


def test_overrides_survive_rebuilds(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0)
    log.run(day(1, 1), 12.0)
    log.override("distance.single_run_spike", "watch_ratio", 1.5)
    log.build()
    log.build()
    assert log.rows("select value from rule_threshold_overrides") == [{"value": 1.5}]
    assert log.flags("distance.single_run_spike") == []


def test_build_reports_unknown_overrides(log: TrainingLog) -> None:
    log.run(day(0, 1), 10.0)
    log.override("distance.single_run_spike", "wacth_ratio", 1.5)
    report = log.build()
    assert report.unknown_overrides == [(1, "distance.single_run_spike", "wacth_ratio")]


def test_build_report_lists_models_in_dependency_order(log: TrainingLog) -> None:
    report = log.build()
    order = report.models
    assert set(MARTS) <= set(order)
    for name, model in discover().items():
        assert all(order.index(dep) < order.index(name) for dep in model.depends_on)
    assert report.as_of == AS_OF and report.rows["risk_flags"] == 0


def test_no_threshold_literals_in_rule_sql() -> None:
    """Thresholds live in the seed: models compare only against int_params columns (or 0 and 1)."""
    for model in discover().values():
        path = model.path
        code = re.sub(r"--[^\n]*|'(?:[^']|'')*'", "", path.read_text())
        comparisons = re.findall(r"(?:[<>]=?|=)\s*(\d+\.?\d*)\b", code)
        assert set(comparisons) <= {"0", "1"}, (path.name, comparisons)


def test_references_ignore_ctes_comments_and_strings() -> None:
    sql = "-- from nowhere\nwith a as (select * from stg_x), b as (select 'from fake' from a join int_y using (k))\nselect * from b"
    assert references(sql) == {"stg_x", "int_y"}


def test_build_order_is_inferred_from_the_sql(tmp_path: Path) -> None:
    for layer, name, sql in [
        ("marts", "zeta", "select * from alpha"),
        ("intermediate", "alpha", "select * from beta"),
        ("staging", "beta", "select 1 as x"),
    ]:
        (tmp_path / layer).mkdir(exist_ok=True)
        (tmp_path / layer / f"{name}.sql").write_text(sql)
    assert build_order(discover(tmp_path)) == ["beta", "alpha", "zeta"]


def test_a_cycle_between_models_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "intermediate").mkdir()
    (tmp_path / "intermediate" / "a.sql").write_text("select * from b")
    (tmp_path / "intermediate" / "b.sql").write_text("select * from a")
    with pytest.raises(ModelError, match="cycle"):
        build_order(discover(tmp_path))


def test_a_failing_model_leaves_the_previous_build_in_place(log: TrainingLog, tmp_path: Path) -> None:
    log.run(day(0, 1), 10.0)
    log.build()
    broken = tmp_path / "sql"
    shutil.copytree(SQL_DIR, broken)
    (broken / "marts" / "weekly_load.sql").write_text("select no_such_column from int_weeks")
    log.run(day(1, 1), 10.0)
    log.load()
    with pytest.raises(ModelError, match="weekly_load"):
        build_models(log.con, sql_dir=broken, as_of=AS_OF)
    assert log.rows("select count(*) as n from daily_load") == [{"n": 7}]


def test_an_unknown_timezone_falls_back_to_utc_instead_of_failing_the_build(log: TrainingLog) -> None:
    log.con.execute("insert into athletes (athlete_id, timezone) values (1, 'Mars/Olympus_Mons')")
    log.run(day(0, 2), 8.0)
    log.activities[-1]["start_date_local"] = None
    log.build()
    assert log.rows("select day from daily_load where runs > 0") == [{"day": day(0, 2)}]


@pytest.mark.parametrize("name", sorted(discover()))
def test_every_model_states_its_grain_and_columns(name: str) -> None:
    text = discover()[name].path.read_text()
    assert text.startswith(f"-- {name}: ")
    assert "\n-- grain: " in text and "\n-- columns" in text


CONTRACTS = {
    "weekly_load": {
        "athlete_id": "BIGINT",
        "week_start": "DATE",
        "runs": "INTEGER",
        "distance_km": "DOUBLE",
        "moving_time_s": "BIGINT",
        "longest_run_km": "DOUBLE",
        "elevation_gain_m": "DOUBLE",
        "prev4_avg_km": "DOUBLE",
        "change_vs_prev4": "DOUBLE",
        "acwr": "DOUBLE",
        "monotony": "DOUBLE",
        "strain": "DOUBLE",
    },
    "daily_load": {
        "athlete_id": "BIGINT",
        "day": "DATE",
        "runs": "INTEGER",
        "distance_km": "DOUBLE",
        "moving_time_s": "BIGINT",
        "load": "DOUBLE",
    },
    "shoe_status": {
        "athlete_id": "BIGINT",
        "gear_id": "VARCHAR",
        "name": "VARCHAR",
        "brand_name": "VARCHAR",
        "model_name": "VARCHAR",
        "distance_km": "DOUBLE",
        "first_run_date": "DATE",
        "last_run_date": "DATE",
        "age_days": "BIGINT",
        "runs_12w": "BIGINT",
        "retired": "BOOLEAN",
        "watch_km": "DOUBLE",
        "warning_km": "DOUBLE",
    },
}


@pytest.mark.parametrize("mart", sorted(CONTRACTS))
def test_marts_keep_the_columns_other_stages_rely_on(log: TrainingLog, mart: str) -> None:
    log.shoe("g1", 100.0)
    log.run(day(0, 1), 8.0)
    log.build()
    columns = {
        r["column_name"]: r["data_type"]
        for r in log.rows("select column_name, data_type from information_schema.columns where table_name = ?", [mart])
    }
    assert {name: columns.get(name) for name in CONTRACTS[mart]} == CONTRACTS[mart]
