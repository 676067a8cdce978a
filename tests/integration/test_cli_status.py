"""`backstride status`: what an operator checks first, from the command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BACKSTRIDE = str(Path(sys.executable).with_name("backstride"))


def status(home: Path) -> subprocess.CompletedProcess[str]:
    env = {"BACKSTRIDE_HOME": str(home), "PATH": "/usr/bin:/bin", "GX_ANALYTICS_ENABLED": "false"}
    return subprocess.run([BACKSTRIDE, "status"], env=env, capture_output=True, text=True, timeout=120)


def test_status_before_any_sync_says_there_is_no_warehouse_yet(tmp_path):
    result = status(tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"no warehouse yet at {tmp_path / 'catalog.sqlite'}" in result.stdout


def test_status_after_a_build_shows_the_schema_version_and_the_build(tmp_path):
    from pipeline.migrations import latest_version

    env = {"BACKSTRIDE_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "GX_ANALYTICS_ENABLED": "false"}
    built = subprocess.run([BACKSTRIDE, "build"], env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr

    result = status(tmp_path)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip())
    assert lines["warehouse"].startswith(str(tmp_path / "catalog.sqlite"))
    assert lines["schema"].startswith(f"version {latest_version()} (latest")
    assert lines["athletes"].startswith("0")
    assert "last build" in result.stdout and "never" not in result.stdout.split("last build", 1)[1].splitlines()[0]
    assert "quarantine  0 open" in result.stdout
