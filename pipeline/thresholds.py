"""Threshold management: the rule_thresholds seed's parameters, their units, per-athlete overrides.

What `backstride thresholds` reads and writes. The defaults live in
`sql/seeds/rule_thresholds.csv` (one row per rule parameter); an athlete's own values live in
the `rule_threshold_overrides` table, read by the `int_params` model at the next build.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import duckdb

from pipeline.config import SQL_DIR, Settings
from pipeline.upsert import upsert_rows


class ThresholdValueError(ValueError):
    """A threshold value outside what its parameter means (NaN, infinite, a share above 1, ...)."""


# What each unit of the seed's `unit` column allows: (lowest, lowest is allowed, highest,
# whole numbers only, how to say it). Upper bounds are generous but keep the SQL's integer
# casts and date arithmetic in range (a window of 1e15 days would fail the build).
UNIT_RANGES: dict[str, tuple[float, bool, float, bool, str]] = {
    "share": (0.0, True, 1.0, False, "a share between 0 and 1 (0.25 = 25%)"),
    "ratio": (0.0, False, 1000.0, False, "a ratio above 0 (at most 1000)"),
    "days": (1.0, True, 3650.0, True, "a whole number of days from 1 to 3650"),
    "hours": (0.0, True, 8760.0, False, "a number of hours from 0 to 8760"),
    "minutes": (0.0, True, 10080.0, False, "a number of minutes from 0 to 10080"),
    "km": (0.0, True, 100_000.0, False, "a distance in km from 0 to 100000"),
    "m": (0.0, True, 100_000.0, False, "a distance in metres from 0 to 100000"),
    "runs": (0.0, True, 1000.0, True, "a whole number of runs from 0 to 1000"),
    "shoes": (0.0, True, 100.0, True, "a whole number of shoes from 0 to 100"),
    "sessions/week": (0.0, True, 50.0, False, "a number of sessions a week from 0 to 50"),
    "bpm": (30.0, True, 250.0, False, "a heart rate in bpm from 30 to 250"),
    "steps/min": (60.0, True, 300.0, False, "a cadence in steps/min from 60 to 300"),
}


def _seed_rows(sql_dir: Path) -> list[dict[str, str]]:
    with (sql_dir / "seeds" / "rule_thresholds.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def seed_params(sql_dir: Path = SQL_DIR) -> dict[tuple[str, str], float]:
    """Every (rule_id, param) of the rule_thresholds seed with its default value."""
    return {(row["rule_id"], row["param"]): float(row["value"]) for row in _seed_rows(sql_dir)}


def seed_units(sql_dir: Path = SQL_DIR) -> dict[tuple[str, str], str]:
    """Every (rule_id, param) of the rule_thresholds seed with its unit."""
    return {(row["rule_id"], row["param"]): row["unit"] for row in _seed_rows(sql_dir)}


def _unknown_threshold(defaults: dict[tuple[str, str], float], rule_id: str, param: str) -> KeyError:
    """A KeyError naming what is unknown, and what is known instead (user text shown quoted)."""
    known = sorted(p for r, p in defaults if r == rule_id)
    if known:
        return KeyError(f"unknown parameter {param!r} of {rule_id}; {rule_id} has: {', '.join(known)}")
    return KeyError(f"unknown rule {rule_id!r}; `backstride thresholds list` shows every rule and parameter")


def check_threshold_value(rule_id: str, param: str, unit: str, value: float) -> float:
    """`value` as a float if it means something for a parameter in `unit`, else ThresholdValueError."""
    name = f"{rule_id}.{param}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ThresholdValueError(f"{name} must be a number, not {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ThresholdValueError(f"{name} must be a finite number, not {value!r} (the rule would never fire)")
    if unit not in UNIT_RANGES:
        return value
    low, low_allowed, high, whole, meaning = UNIT_RANGES[unit]
    if value < low or (value == low and not low_allowed) or value > high or (whole and not value.is_integer()):
        raise ThresholdValueError(f"{name} is {meaning}, not {value:g}")
    return value


def set_override(con: duckdb.DuckDBPyConnection, athlete_id: int, rule_id: str, param: str, value: float) -> None:
    """Give one athlete their own value for a rule parameter (kept across rebuilds).

    Only a finite number is stored (a NaN compares false everywhere, so its rule would never
    fire); `save_override` checks the value against the parameter's unit as well.
    """
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ThresholdValueError(f"{rule_id}.{param} must be a finite number, not {value!r}")
    upsert_rows(
        con,
        "rule_threshold_overrides",
        ("athlete_id", "rule_id", "param", "value"),
        [(athlete_id, rule_id, param, value)],
    )


def save_override(settings: Settings, athlete_id: int, rule_id: str, param: str, value: float) -> float:
    """Store an athlete's own value for a known parameter; returns the default it replaces.

    The value must be finite and mean something in the parameter's unit (`UNIT_RANGES`):
    KeyError for an unknown parameter, ThresholdValueError for a value out of range. It takes
    effect at the next build (the override table is read by `int_params`).
    """
    from pipeline.warehouse import writer

    defaults = seed_params()
    if (rule_id, param) not in defaults:
        raise _unknown_threshold(defaults, rule_id, param)
    value = check_threshold_value(rule_id, param, seed_units()[(rule_id, param)], value)
    with writer(settings) as con:
        set_override(con, athlete_id, rule_id, param, value)
    return defaults[(rule_id, param)]


def remove_override(settings: Settings, athlete_id: int, rule_id: str, param: str) -> bool:
    """Drop an athlete's override (back to the default at the next build); False if there was none.

    KeyError for a parameter the catalogue does not have (an override left from an older
    catalogue is still removed). Without a warehouse nothing is created.
    """
    from pipeline.warehouse import writer

    if not settings.warehouse_exists():
        if (rule_id, param) not in seed_params():
            raise _unknown_threshold(seed_params(), rule_id, param)
        return False
    with writer(settings) as con:
        found = con.execute(
            "delete from rule_threshold_overrides where athlete_id = ? and rule_id = ? and param = ?",
            [athlete_id, rule_id, param],
        ).fetchall()[0][0]
    if not found and (rule_id, param) not in seed_params():
        raise _unknown_threshold(seed_params(), rule_id, param)
    return bool(found)


def threshold_table(settings: Settings, athlete_id: int | None = None) -> tuple[list[str], list[tuple]]:
    """Columns and rows of the rule catalogue; with an athlete, their overrides beside the defaults."""
    defaults = seed_params()
    overrides: dict[tuple[str, str], float] = {}
    if athlete_id is not None and settings.warehouse_exists():
        from pipeline.warehouse import connect_reader

        con = connect_reader(settings)
        try:
            present = con.execute(
                "select count(*) from information_schema.tables where table_name = 'rule_threshold_overrides'"
            ).fetchone()[0]
            if present:
                overrides = {
                    (r, p): v
                    for r, p, v in con.execute(
                        "select rule_id, param, value from rule_threshold_overrides where athlete_id = ?", [athlete_id]
                    ).fetchall()
                }
        finally:
            con.close()
    with (SQL_DIR / "seeds" / "rule_thresholds.csv").open(newline="") as f:
        catalogue = list(csv.DictReader(f))
    columns = ["rule_id", "param", "default", "unit", "evidence"] + (["athlete's value"] if athlete_id else [])
    rows = []
    for row in catalogue:
        key = (row["rule_id"], row["param"])
        line: tuple = (row["rule_id"], row["param"], f"{defaults[key]:g}", row["unit"], row["evidence"])
        if athlete_id:
            line += (f"{overrides[key]:g}" if key in overrides else "",)
        rows.append(line)
    return columns, rows


def unknown_overrides(con: duckdb.DuckDBPyConnection) -> list[tuple[int, str, str]]:
    """(athlete, rule, param) of overrides the seed no longer has: kept, but read by no rule."""
    return [
        (int(a), r, p)
        for a, r, p in con.execute(
            """select o.athlete_id, o.rule_id, o.param from rule_threshold_overrides as o
               anti join rule_thresholds as t on o.rule_id = t.rule_id and o.param = t.param
               order by all"""
        ).fetchall()
    ]
