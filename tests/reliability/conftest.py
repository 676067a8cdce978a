"""Fixtures for the fault-injection suite: a loopback SMTP server that keeps deliveries,
and a recorder whose figures `bench/reliability_report.py` turns into RELIABILITY.md."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_support import SmtpServer, running_smtp


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture
def record(request) -> Iterator[dict]:
    """Figures a test wants in RELIABILITY.md (written when RELIABILITY_REPORT_DIR is set)."""
    figures: dict = {}
    yield figures
    directory = os.environ.get("RELIABILITY_REPORT_DIR")
    if directory and figures:
        path = Path(directory) / (request.node.name.replace("/", "_") + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"test": request.node.nodeid, **figures}, default=str))
