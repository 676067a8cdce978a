"""Reading `expectations/<table>.json` into checked models.

A suite file is plain JSON a user edits without Python (its format: expectations/README.md).
It is checked field by field when it is read: a malformed file fails loudly with an error that
names the file and the field (`expectations[3] ('distance_not_null').level: ...`), before any
row is judged. Named sets (`$run_sport_types` in SQL, `{"$ref": "run_sport_types"}` in
kwargs) are resolved here, so the rest of validation sees plain SQL and plain lists.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from pipeline.validation.errors import BatchValidationError
from pipeline.validation.named_sets import NamedSets

# Validation order: a table's cross-table checks may read the passing rows of earlier tables.
VALIDATED_TABLES: tuple[str, ...] = ("athletes", "gear", "activities", "splits", "stream_features")
DEFAULT_SUITES_DIR = Path(__file__).resolve().parent.parent.parent / "expectations"
Level = Literal["schema", "batch", "row"]
LEVELS: tuple[str, ...] = get_args(Level)


def _named_sets(info: ValidationInfo) -> NamedSets:
    return info.context["named_sets"] if info.context else NamedSets()


class Check(BaseModel):
    """One expectation of a suite, as written in its JSON file (named sets resolved)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    level: Level
    type: str
    kwargs: dict[str, Any]
    notes: str = ""

    @field_validator("type")
    @classmethod
    def _names_an_expectation(cls, value: str) -> str:
        if not value.startswith("expect_"):
            raise ValueError(
                f"{value!r} is not a Great Expectations expectation type (they start with 'expect_', "
                "e.g. expect_column_values_to_not_be_null)"
            )
        return value

    @field_validator("kwargs")
    @classmethod
    def _resolve_named_sets(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        return _named_sets(info).expand_kwargs(value)

    def columns(self) -> list[str]:
        """The columns this expectation reads."""
        named = [self.kwargs[k] for k in ("column", "column_A", "column_B") if k in self.kwargs]
        return named + list(self.kwargs.get("column_list", []))

    def describe(self) -> str:
        target = self.kwargs.get("column") or ", ".join(
            str(self.kwargs[k]) for k in ("column_A", "column_B") if k in self.kwargs
        )
        target = target or ", ".join(self.kwargs.get("column_list", []))
        return f"{self.name} ({self.type}" + (f" on {target})" if target else ")")


class DerivedColumn(BaseModel):
    """A DuckDB SQL expression evaluated per new row (named sets resolved)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sql: str = Field(min_length=1)
    notes: str = ""

    @field_validator("sql")
    @classmethod
    def _resolve_named_sets(cls, value: str, info: ValidationInfo) -> str:
        return _named_sets(info).expand_sql(value)


class SuiteFile(BaseModel):
    """The content of one suite file. A derived column may be written as its SQL alone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    notes: str = ""
    key_columns: list[str] = Field(min_length=1)
    derived_columns: dict[str, DerivedColumn] = Field(default_factory=dict)
    expectations: list[Check] = Field(default_factory=list)

    @field_validator("derived_columns", mode="before")
    @classmethod
    def _sql_alone(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {name: {"sql": spec} if isinstance(spec, str) else spec for name, spec in value.items()}
        return value

    @field_validator("expectations")
    @classmethod
    def _unique_names(cls, checks: list[Check]) -> list[Check]:
        names = [c.name for c in checks]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"expectation names must be unique; repeated: {', '.join(repeated)}")
        return checks


@dataclass(frozen=True)
class Suite:
    """An expectation suite for one table, loaded from `expectations/<table>.json`."""

    name: str
    path: Path
    key_columns: tuple[str, ...]
    derived_columns: dict[str, str]  # column name -> SQL
    checks: tuple[Check, ...]
    fingerprint: str  # file path, content and the named sets it used: GX suites are cached by it

    def level(self, level: str) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.level == level)


def load_suite(table: str, suites_dir: Path | None = None) -> Suite:
    """Read and check one suite file; a malformed suite fails loudly with its path and the field."""
    path = (suites_dir or DEFAULT_SUITES_DIR) / f"{table}.json"
    text, data = _read_json(table, path)
    if isinstance(data, dict) and data.get("name") != table:
        raise BatchValidationError(f"suite '{table}': {path} names itself {data.get('name')!r}")
    named_sets = NamedSets()
    try:
        content = SuiteFile.model_validate(data, context={"named_sets": named_sets})
    except ValidationError as e:
        raise BatchValidationError(f"suite '{table}': {path} is malformed: {_problems(e, data)}") from None
    used = json.dumps(named_sets.used, sort_keys=True)
    return Suite(
        name=table,
        path=path,
        key_columns=tuple(content.key_columns),
        derived_columns={name: column.sql for name, column in content.derived_columns.items()},
        checks=tuple(content.expectations),
        fingerprint=hashlib.sha256(f"{path}\0{text}\0{used}".encode()).hexdigest(),
    )


def _read_json(table: str, path: Path) -> tuple[str, Any]:
    try:
        text = path.read_text()
        return text, json.loads(text)
    except FileNotFoundError:
        raise BatchValidationError(f"suite '{table}': no suite file at {path}") from None
    except json.JSONDecodeError as e:
        raise BatchValidationError(f"suite '{table}': {path} is not valid JSON: {e}") from None


def _problems(error: ValidationError, data: Any) -> str:
    """Each problem as `field: message`, e.g. `expectations[3] ('distance_not_null').level: ...`."""
    return "; ".join(f"{_field(problem['loc'], data)}: {_message(problem['msg'])}" for problem in error.errors())


def _message(msg: str) -> str:
    """Pydantic's message without its Python wording ('Value error, ', 'or instance of SuiteFile')."""
    return re.sub(r" or instance of \w+", "", msg.removeprefix("Value error, "))


def _field(loc: tuple[int | str, ...], data: Any) -> str:
    """A JSON location as the user reads it; an expectation is named when it has a name."""
    text, node = "", data
    for part in loc:
        node = node[part] if isinstance(node, dict | list) and _has(node, part) else None
        if isinstance(part, int):
            text += f"[{part}]"
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                text += f" ({node['name']!r})"
        else:
            text += f".{part}" if text else str(part)
    return text or "(the whole file)"


def _has(node: dict[str, Any] | list[Any], part: int | str) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return part in node
