"""`backstride strava-stub`: serves the demo world until Ctrl-C and prints only where it is."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from stub_today import TODAY

from pipeline.strava_stub import DEMO_CLIENT_SECRET, build_world

BACKSTRIDE = Path(sys.executable).with_name("backstride")


def test_the_command_serves_the_demo_world_and_prints_no_secrets(tmp_path: Path) -> None:
    env = {**os.environ, "BACKSTRIDE_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [str(BACKSTRIDE), "strava-stub", "--port", "0", "--short-limit", "5", "--today", "2026-11-26"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()  # blocks until the server is up
        second = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", first).group(0)
        assert f"STRAVA_BASE_URL={url}" in second
        stats = requests.get(url + "/_stub/stats", timeout=10).json()
        assert stats["limits"]["short"] == 5 and stats["api_requests"] == 0
        assert requests.get(url + "/api/v3/athlete", timeout=10).status_code == 401
        form = {"client_id": 90210, "client_secret": DEMO_CLIENT_SECRET, "grant_type": "refresh_token"}
        form["refresh_token"] = build_world(TODAY).athlete(1003).refresh_token
        token = requests.post(url + "/oauth/token", data=form, timeout=10).json()["access_token"]
        newest = requests.get(
            url + "/api/v3/athlete/activities",
            params={"per_page": 1},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()[0]
        assert newest["start_date_local"].startswith("2026-11-25")
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, errors = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, errors = proc.communicate()
    printed = first + second + rest + errors
    world = build_world(TODAY)
    secrets = [DEMO_CLIENT_SECRET] + [a.refresh_token for a in world.athletes.values()]
    assert not [s for s in secrets if s in printed]
    assert proc.returncode == 0


def test_a_busy_port_is_reported_cleanly() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [str(BACKSTRIDE), "strava-stub", "--port", str(port)], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 1 and "cannot listen" in done.stderr and "Traceback" not in done.stderr
    assert time.monotonic() - started < 60


def test_a_bad_date_is_reported_cleanly() -> None:
    done = subprocess.run(
        [str(BACKSTRIDE), "strava-stub", "--today", "soon"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "--today must be a date" in done.stderr and "Traceback" not in done.stderr


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_server_stops_promptly_even_when_started_with_sigint_ignored(stop_signal: int, tmp_path: Path) -> None:
    """A shell without job control (CI, `cmd &`) starts children with SIGINT ignored;
    Python then never raises KeyboardInterrupt. The stub must still stop on Ctrl-C and SIGTERM."""
    proc = subprocess.Popen(
        [str(BACKSTRIDE), "strava-stub", "--port", "0", "--today", "2026-11-26"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BACKSTRIDE_HOME": str(tmp_path)},
        preexec_fn=_ignore_sigint,
    )
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline()).group(0)
        proc.stdout.readline()
        assert requests.get(url + "/_stub/stats", timeout=10).status_code == 200
        proc.send_signal(stop_signal)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
            pytest.fail(f"the stub ignored {signal.Signals(stop_signal).name}")
    assert proc.returncode == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_stub/stats", timeout=5)
