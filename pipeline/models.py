"""The SQL model runner: seeds, then staging -> intermediate -> marts in dependency order.

Each `sql/<layer>/<name>.sql` holds one SELECT; the file stem is the view or table it
builds. The order comes from the SQL itself (the `from`/`join` references between models),
so adding a model never means renumbering files. Everything is rebuilt inside one
transaction: a failing model leaves the previous tables in place for readers.
"""

from __future__ import annotations

import datetime
import graphlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.config import SQL_DIR
from pipeline.thresholds import (
    UNIT_RANGES,
    ThresholdValueError,
    check_threshold_value,
    remove_override,
    save_override,
    seed_params,
    seed_units,
    set_override,
    threshold_table,
    unknown_overrides,
)
from pipeline.transaction import transaction

__all__ = [  # the runner, and the threshold names that were defined here before pipeline.thresholds
    "SQL_DIR",
    "UNIT_RANGES",
    "BuildReport",
    "Model",
    "ModelError",
    "ThresholdValueError",
    "build_models",
    "build_order",
    "check_threshold_value",
    "discover",
    "load_seeds",
    "references",
    "remove_override",
    "save_override",
    "seed_params",
    "seed_units",
    "set_override",
    "threshold_table",
]

LAYERS = ("staging", "intermediate", "marts")
DEFAULT_MATERIALIZATION = {"staging": "view", "intermediate": "view", "marts": "table"}

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
    """Replace each seed table from its CSV (the overrides table belongs to the migrations)."""
    seeds = []
    for path in sorted((sql_dir / "seeds").glob("*.csv")):
        name = path.stem.lower()
        _load_csv(con, name, path, SEED_TYPES.get(name))
        seeds.append(name)
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
    try:
        with transaction(con):
            report.seeds = load_seeds(con, sql_dir)
            _set_context(con, as_of)
            for name in order:
                _build_model(con, models[name], report)
            for name in order:
                if models[name].layer == "marts" and models[name].materialized == "table":
                    report.rows[name] = int(con.execute(f'select count(*) from "{name}"').fetchone()[0])
            report.unknown_overrides = unknown_overrides(con)
    finally:
        for name, value in saved.items():
            con.execute(f"set {name} = {'true' if value else 'false'}")
    report.duration_s = round(time.perf_counter() - started, 3)
    return report


def _build_model(con: duckdb.DuckDBPyConnection, model: Model, report: BuildReport) -> None:
    """Create one model's view or table, timing it; a DuckDB error names the model and its file."""
    t0 = time.perf_counter()
    _drop_other_kind(con, model.name, model.materialized)
    try:
        con.execute(f'create or replace {model.materialized} "{model.name}" as\n{model.sql}')
    except duckdb.Error as err:
        raise ModelError(f"model {model.name} ({model.path}) failed: {str(err)[:600]}") from err
    report.seconds[model.name] = round(time.perf_counter() - t0, 4)
    report.models.append(model.name)


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
