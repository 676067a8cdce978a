"""The SQL model runner: seeds, then staging -> intermediate -> marts in dependency order.

Each `sql/<layer>/<name>.sql` holds one SELECT; the file stem is the view or table it
builds. The order comes from the SQL itself (the `from`/`join` references between models),
so adding a model never means renumbering files. Everything is rebuilt inside one
transaction: a failing model leaves the previous tables in place for readers.
"""

from __future__ import annotations

import csv
import datetime
import graphlib
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.config import Settings

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
LAYERS = ("staging", "intermediate", "marts")
DEFAULT_MATERIALIZATION = {"staging": "view", "intermediate": "view", "marts": "table"}

# Tables the runner owns besides the models: seeds are replaced, overrides never touched.
OVERRIDES_DDL = """
create table if not exists rule_threshold_overrides (
    athlete_id bigint not null,
    rule_id    varchar not null,
    param      varchar not null,
    value      double not null,
    primary key (athlete_id, rule_id, param)
)"""
SEED_TYPES: dict[str, dict[str, str]] = {
    "rule_thresholds": {
        "rule_id": "VARCHAR",
        "factor": "VARCHAR",
        "param": "VARCHAR",
        "value": "DOUBLE",
        "unit": "VARCHAR",
        "evidence": "VARCHAR",
        "source": "VARCHAR",
        "meaning": "VARCHAR",
    },
    "activity_categories": {"category": "VARCHAR", "match_on": "VARCHAR", "value": "VARCHAR"},
}

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_REFERENCE = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b", re.I)
_CTE = re.compile(r"\b([a-z_][a-z0-9_]*)\s+as\s*(?:not\s+)?(?:materialized\s+)?\(", re.I)
_REGEX_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")
_MATERIALIZED = re.compile(r"^--\s*materialized:\s*(table|view)\s*$", re.I | re.M)


class ModelError(RuntimeError):
    """A model failed to build, or the models reference each other in a cycle."""


class ThresholdValueError(ValueError):
    """A threshold value outside what its parameter means (NaN, infinite, a share above 1, ...)."""


@dataclass(frozen=True)
class Model:
    """One SQL file: its name, layer, how it is materialised and which models it reads."""

    name: str
    layer: str
    path: Path
    sql: str
    materialized: str
    depends_on: frozenset[str]


@dataclass
class BuildReport:
    """What a build did: models in build order, seconds per model, row counts of marts."""

    as_of: datetime.date
    models: list[str] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    unknown_overrides: list[tuple[int, str, str]] = field(default_factory=list)
    duration_s: float = 0.0


def references(sql: str) -> set[str]:
    """Names read by `from`/`join` in a query, minus its own CTE names."""
    text = _STRING.sub("''", _COMMENT.sub(" ", sql))
    ctes = {m.group(1).lower() for m in _CTE.finditer(text)}
    return {m.group(1).lower() for m in _REFERENCE.finditer(text)} - ctes


def discover(sql_dir: Path = SQL_DIR) -> dict[str, Model]:
    """Every model under the layer folders, with its dependencies on other models."""
    found: dict[str, tuple[str, Path, str]] = {}
    for layer in LAYERS:
        for path in sorted((sql_dir / layer).rglob("*.sql")):
            name = path.stem.lower()
            if name in found:
                raise ModelError(f"two models named {name}: {found[name][1]} and {path}")
            found[name] = (layer, path, path.read_text())
    models: dict[str, Model] = {}
    for name, (layer, path, sql) in found.items():
        declared = _MATERIALIZED.search(sql)
        models[name] = Model(
            name=name,
            layer=layer,
            path=path,
            sql=sql.strip().rstrip(";"),
            materialized=declared.group(1).lower() if declared else DEFAULT_MATERIALIZATION[layer],
            depends_on=frozenset(references(sql) & found.keys() - {name}),
        )
    return models


def build_order(models: dict[str, Model]) -> list[str]:
    """Models sorted so each comes after everything it reads (ties broken by name)."""
    sorter = graphlib.TopologicalSorter({n: sorted(m.depends_on) for n, m in sorted(models.items())})
    try:
        sorter.prepare()
    except graphlib.CycleError as err:
        raise ModelError(f"models reference each other in a cycle: {err.args[1]}") from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def load_seeds(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Replace each seed table from its CSV and create the overrides table if missing."""
    seeds = []
    for path in sorted((sql_dir / "seeds").glob("*.csv")):
        name = path.stem.lower()
        _load_csv(con, name, path, SEED_TYPES.get(name))
        seeds.append(name)
    con.execute(OVERRIDES_DDL)
    _create_word_macros(con)
    return seeds


def _create_word_macros(con: duckdb.DuckDBPyConnection) -> None:
    """`words_<category>()` macros: the seed's words for a category as one whole-word regex.

    A pattern built inside a query is a column to DuckDB and gets compiled for every row
    (about 100x slower on 600k activities); a macro returning a literal is compiled once.
    """
    rows = con.execute(
        """select category, list(value order by value) from activity_categories
           where match_on = 'word' group by category order by category"""
    ).fetchall()
    for category, words in rows:
        if not re.fullmatch(r"[a-z_]+", category):
            raise ModelError(f"activity_categories: category {category!r} must be lower-case letters")
        # Longest first, so "sore back" wins over "sore" where both match.
        longest_first = sorted({w.lower() for w in words}, key=lambda w: (-len(w), w))
        pattern = r"\b(" + "|".join(_REGEX_SPECIAL.sub(r"\\\1", w) for w in longest_first) + r")\b"
        con.execute(f"create or replace macro words_{category}() as '{pattern.replace(chr(39), chr(39) * 2)}'")


def set_override(con: duckdb.DuckDBPyConnection, athlete_id: int, rule_id: str, param: str, value: float) -> None:
    """Give one athlete their own value for a rule parameter (kept across rebuilds).

    Only a finite number is stored (a NaN compares false everywhere, so its rule would never
    fire); `save_override` checks the value against the parameter's unit as well.
    """
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ThresholdValueError(f"{rule_id}.{param} must be a finite number, not {value!r}")
    con.execute(OVERRIDES_DDL)
    con.execute(
        "insert or replace into rule_threshold_overrides values (?, ?, ?, ?)", [athlete_id, rule_id, param, value]
    )


def _load_csv(con: duckdb.DuckDBPyConnection, name: str, path: Path, types: dict[str, str] | None) -> None:
    if types:
        columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in types.items()) + "}"
        options = f"header = true, columns = {columns}"
    else:
        options = "header = true, auto_detect = true"
    con.execute(f"create or replace table \"{name}\" as select * from read_csv('{_quote(path)}', {options})")


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _set_context(con: duckdb.DuckDBPyConnection, as_of: datetime.date) -> None:
    """`build_context` is how models see the reference date (shoe age, runs in the last 12 weeks)."""
    con.execute("create or replace table build_context as select ?::date as as_of", [as_of])


def build_models(
    con: duckdb.DuckDBPyConnection,
    sql_dir: Path | None = None,
    as_of: datetime.date | None = None,
) -> BuildReport:
    """Load seeds and rebuild every model in dependency order, atomically.

    `as_of` is the reference "today" (default: today in UTC). Marts become tables, staging
    and intermediate models views unless a file declares `-- materialized: table`.
    """
    sql_dir = sql_dir or SQL_DIR
    as_of = as_of or datetime.datetime.now(datetime.UTC).date()
    report = BuildReport(as_of=as_of)
    started = time.perf_counter()
    models = discover(sql_dir)
    order = build_order(models)
    # Tables are rebuilt whole, so keeping insertion order would only cost time and memory;
    # and a build prints nothing (DuckDB's progress bar would land in the CLI's output).
    saved = _settings(con, ("preserve_insertion_order", "enable_progress_bar"))
    con.execute("set preserve_insertion_order = false")
    con.execute("set enable_progress_bar = false")
    con.execute("begin")
    try:
        report.seeds = load_seeds(con, sql_dir)
        _set_context(con, as_of)
        for name in order:
            model = models[name]
            t0 = time.perf_counter()
            _drop_other_kind(con, name, model.materialized)
            try:
                con.execute(f'create or replace {model.materialized} "{name}" as\n{model.sql}')
            except duckdb.Error as err:
                raise ModelError(f"model {name} ({model.path}) failed: {str(err)[:600]}") from err
            report.seconds[name] = round(time.perf_counter() - t0, 4)
            report.models.append(name)
        for name in order:
            if models[name].layer == "marts" and models[name].materialized == "table":
                report.rows[name] = int(con.execute(f'select count(*) from "{name}"').fetchone()[0])
        report.unknown_overrides = [
            (int(a), r, p)
            for a, r, p in con.execute(
                """select o.athlete_id, o.rule_id, o.param from rule_threshold_overrides as o
                   anti join rule_thresholds as t on o.rule_id = t.rule_id and o.param = t.param
                   order by all"""
            ).fetchall()
        ]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        for name, value in saved.items():
            con.execute(f"set {name} = {'true' if value else 'false'}")
    report.duration_s = round(time.perf_counter() - started, 3)
    return report


def _settings(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> dict[str, bool]:
    """Current values of boolean settings, to restore after the build."""
    return {name: bool(con.execute(f"select current_setting('{name}')").fetchone()[0]) for name in names}


def _drop_other_kind(con: duckdb.DuckDBPyConnection, name: str, kind: str) -> None:
    """A model switched between view and table: drop the old object first."""
    row = con.execute(
        """select table_type from information_schema.tables
           where table_schema = current_schema() and table_name = ?""",
        [name],
    ).fetchone()
    if row is None:
        return
    existing = "view" if row[0] == "VIEW" else "table"
    if existing != kind:
        con.execute(f'drop {existing} "{name}" cascade')


# --- thresholds: what `backstride thresholds` reads and writes -------------------------------


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


def seed_params(sql_dir: Path = SQL_DIR) -> dict[tuple[str, str], float]:
    """Every (rule_id, param) of the rule_thresholds seed with its default value."""
    with (sql_dir / "seeds" / "rule_thresholds.csv").open(newline="") as f:
        return {(row["rule_id"], row["param"]): float(row["value"]) for row in csv.DictReader(f)}


def seed_units(sql_dir: Path = SQL_DIR) -> dict[tuple[str, str], str]:
    """Every (rule_id, param) of the rule_thresholds seed with its unit."""
    with (sql_dir / "seeds" / "rule_thresholds.csv").open(newline="") as f:
        return {(row["rule_id"], row["param"]): row["unit"] for row in csv.DictReader(f)}


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

    if not settings.warehouse_path.exists():
        if (rule_id, param) not in seed_params():
            raise _unknown_threshold(seed_params(), rule_id, param)
        return False
    with writer(settings) as con:
        con.execute(OVERRIDES_DDL)
        found = con.execute(
            "delete from rule_threshold_overrides where athlete_id = ? and rule_id = ? and param = ? returning 1",
            [athlete_id, rule_id, param],
        ).fetchall()
    if not found and (rule_id, param) not in seed_params():
        raise _unknown_threshold(seed_params(), rule_id, param)
    return bool(found)


def threshold_table(settings: Settings, athlete_id: int | None = None) -> tuple[list[str], list[tuple]]:
    """Columns and rows of the rule catalogue; with an athlete, their overrides beside the defaults."""
    defaults = seed_params()
    overrides: dict[tuple[str, str], float] = {}
    if athlete_id is not None and settings.warehouse_path.exists():
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
