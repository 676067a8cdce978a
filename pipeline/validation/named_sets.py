"""Named sets: lists a suite file refers to by name instead of repeating them (one owner per list).

- `run_sport_types`: the sport types that count as runs, the `run` rows of
  `sql/seeds/activity_categories.csv` (read by `pipeline.sport_types`, as sync, the loader and
  the SQL models do).

In a derived column's SQL, `$run_sport_types` stands for the SQL list of its values, so
`sport_type in $run_sport_types` reads `sport_type in ('Run', 'TrailRun', 'VirtualRun')`. In an
expectation's kwargs, `{"$ref": "run_sport_types"}` stands for the JSON list of its values
(for example as a `value_set`). Each set is read when a suite that refers to it is loaded, so
an edit to the seed takes effect at the next validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pipeline.sport_types import run_sport_types

NAMED_SETS: dict[str, Callable[[], tuple[str, ...]]] = {"run_sport_types": run_sport_types}

# `$name` not preceded by a word character or another `$` (DuckDB's `$$` quoting).
SQL_REFERENCE = re.compile(r"(?<![\w$])\$([A-Za-z_]\w*)")
REF_KEY = "$ref"


class NamedSets:
    """The named sets one suite load resolves, each read once, when first referred to."""

    def __init__(self, sources: Mapping[str, Callable[[], tuple[str, ...]]] | None = None) -> None:
        self._sources = NAMED_SETS if sources is None else sources
        self.used: dict[str, tuple[str, ...]] = {}

    def values(self, name: str) -> tuple[str, ...]:
        """The values of set `name`; ValueError for an unknown name or an unreadable seed."""
        if name not in self.used:
            if name not in self._sources:
                raise ValueError(f"unknown named set {name!r} (known: {', '.join(sorted(self._sources))})")
            try:
                self.used[name] = tuple(self._sources[name]())
            except OSError as e:
                raise ValueError(f"named set {name!r} could not be read: {e}") from None
        return self.used[name]

    def expand_sql(self, sql: str) -> str:
        """`sql` with each `$name` replaced by the SQL list of that set's values."""
        return SQL_REFERENCE.sub(lambda m: sql_list(self.values(m.group(1))), sql)

    def expand_kwargs(self, value: Any) -> Any:
        """`value` with each `{"$ref": name}` (at any depth) replaced by that set's values as a list."""
        if isinstance(value, dict):
            if set(value) == {REF_KEY}:
                if not isinstance(value[REF_KEY], str):
                    raise ValueError(f"{REF_KEY} must name a set, not {value[REF_KEY]!r}")
                return list(self.values(value[REF_KEY]))
            return {key: self.expand_kwargs(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.expand_kwargs(item) for item in value]
        return value


def sql_list(values: tuple[str, ...]) -> str:
    """An SQL list of string literals, `('Run', 'TrailRun')`; `(NULL)` when empty (matches nothing)."""
    if not values:
        return "(NULL)"
    return "(" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + ")"
