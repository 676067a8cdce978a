"""Where `../shared/` is absent, the tests over real recordings skip, saying where they looked.

The suite is copied into a project folder with no `shared/` beside it and run there: every
real-recording test is skipped (none fails, none errors) with a message naming the folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_every_real_recording_test_skips_with_the_folder_it_looked_for(tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests", project / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", project / "pyproject.toml")
    looked_for = tmp_path / "shared" / "real-strava"

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:xdist",
         "tests/real_strava", "tests/ingest/test_ingest_real_corpus.py"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " skipped" in summary and "passed" not in summary and "failed" not in summary and "error" not in summary
    skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
    assert skips and all(f"real Strava recordings not found at {looked_for}" in line for line in skips)
