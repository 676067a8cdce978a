"""`backstride demo`: the main job on embedded defaults, offline, safe to run again."""

from __future__ import annotations

import os
import subprocess
import sys
from email import message_from_bytes, policy
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent / "backstride"


def demo(home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRAVA_", "BACKSTRIDE_"))}
    env.update(BACKSTRIDE_HOME=str(home), GX_ANALYTICS_ENABLED="false")
    return subprocess.run([str(BIN), "demo"], env=env, capture_output=True, text=True, timeout=900)


def test_demo_ends_with_one_email_per_persona_and_can_run_again(tmp_path):
    home = tmp_path / "var"
    first = demo(home)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    emails = sorted(home.glob("outbox/*/*.eml"))
    previews = sorted(home.glob("outbox/*/*.html"))
    assert len(emails) == 4 and len(previews) == 4
    subjects = [message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"] for p in emails]
    assert any("steady week" in s for s in subjects)
    assert sum("steady week" not in s for s in subjects) == 3
    assert "quarantined in activities: 2" in first.stdout  # the deliberately bad demo records
    for path in emails:
        assert str(path) in first.stdout or str(path.relative_to(tmp_path)) in first.stdout or path.name in first.stdout

    second = demo(home)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "skipped_already_sent" in second.stdout or "already sent" in second.stdout
    assert sorted(home.glob("outbox/*/*.eml")) == emails
