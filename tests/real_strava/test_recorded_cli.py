"""`backstride strava-stub --recorded DIR`: the recordings served over the command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests
from real_strava_support import CORPUS_DIR

from pipeline.strava_stub import DEMO_CLIENT_SECRET
from pipeline.strava_stub.recorded import ATHLETE_ID, RECORDED_REFRESH_TOKEN

BACKSTRIDE = Path(sys.executable).with_name("backstride")


def test_the_command_serves_the_recorded_runner(tmp_path: Path) -> None:
    env = {**os.environ, "BACKSTRIDE_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [str(BACKSTRIDE), "strava-stub", "--port", "0", "--recorded", str(CORPUS_DIR)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline()).group(0)
        form = {"client_id": 90210, "client_secret": DEMO_CLIENT_SECRET, "grant_type": "refresh_token"}
        token = requests.post(url + "/oauth/token", data={**form, "refresh_token": RECORDED_REFRESH_TOKEN}, timeout=10)
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        assert requests.get(url + "/api/v3/athlete", headers=headers, timeout=10).json()["id"] == ATHLETE_ID
        page = requests.get(url + "/api/v3/athlete/activities", params={"per_page": 200}, headers=headers, timeout=10)
        assert len(page.json()) == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_a_missing_folder_is_reported_cleanly(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BACKSTRIDE), "strava-stub", "--port", "0", "--recorded", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "cannot read the recordings" in done.stderr and "Traceback" not in done.stderr
