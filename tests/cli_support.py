"""Running the `backstride` command line in a subprocess, as a user or a scheduler would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

BIN = Path(sys.executable).parent / "backstride"


def env_for(home: Path, base_url: str, smtp_url: str | None = None, lookback_weeks: int = 2) -> dict[str, str]:
    env = {
        **os.environ,
        "BACKSTRIDE_HOME": str(home),
        "STRAVA_BASE_URL": base_url,
        "STRAVA_CLIENT_ID": str(DEMO_CLIENT_ID),
        "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "BACKSTRIDE_LOOKBACK_WEEKS": str(lookback_weeks),
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("BACKSTRIDE_SMTP_URL", None)
    if smtp_url:
        env["BACKSTRIDE_SMTP_URL"] = smtp_url
    return env


def cli(env: dict[str, str], *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=timeout)


def add_athletes(env: dict[str, str], world) -> None:
    for a in world.athletes.values():
        done = cli(
            env, "athletes", "add", "--refresh-token", a.refresh_token, "--email", a.email, "--timezone", a.timezone
        )
        assert done.returncode == 0, done.stderr
