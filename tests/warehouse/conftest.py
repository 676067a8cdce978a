"""Warehouse fixtures: migration folders to point the runner at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.migrations import MIGRATIONS_DIR, NATIVE_MIGRATIONS_DIR


@pytest.fixture
def migrations_dir(tmp_path: Path) -> Path:
    """A copy of the real migrations, to add files to."""
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


@pytest.fixture
def first_only(tmp_path: Path) -> Path:
    """A single-file migrations folder holding only 001 (the schema as release 0.1 left it)."""
    target = tmp_path / "first_only"
    target.mkdir()
    shutil.copy(sorted(NATIVE_MIGRATIONS_DIR.glob("001_*.sql"))[0], target)
    return target
