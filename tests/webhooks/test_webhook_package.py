"""`pipeline.webhooks` stays cheap to import (the DAG files import it at parse time) and still
offers every name the single module did."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import pipeline.webhooks as webhooks

HEAVY = ("pydantic", "fastapi", "starlette", "requests", "tenacity", "duckdb", "stravalib", "pandas")


def test_importing_the_package_loads_only_the_asset_names() -> None:
    code = (
        "import json, sys; import pipeline.webhooks as w; from pipeline.webhooks import WEBHOOK_ASSET_NAME; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []


@pytest.mark.parametrize("name", webhooks.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(webhooks, name) is not None


def test_every_lazily_loaded_name_is_exported() -> None:
    assert set(webhooks.__all__) == {"WEBHOOK_ASSET_NAME", "WEBHOOK_ASSET_URI", *webhooks._MODULE_OF}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError):
        webhooks.no_such_name  # noqa: B018
