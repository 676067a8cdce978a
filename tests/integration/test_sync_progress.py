"""`backstride sync` shows a progress bar on a terminal and plain lines when piped."""

from __future__ import annotations

import os
import pty
import select
import subprocess

from cli_support import BIN, add_athletes, env_for

from pipeline.strava_stub.demo_data import synthetic_world


def run_on_a_terminal(env: dict[str, str], *args: str) -> str:
    """Run with stdout and stderr on a pseudo-terminal; return what the terminal showed."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(BIN), *args], env=env, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=300)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_on_a_terminal_and_none_when_piped(tmp_path, start_stub):
    world = synthetic_world(2, 10)
    server = start_stub(world)
    env = env_for(tmp_path / "home", server.base_url)
    env.update(TERM="xterm-256color", COLUMNS="100")
    add_athletes(env, world)

    screen = run_on_a_terminal(env, "sync")
    piped = subprocess.run([str(BIN), "sync"], env=env, capture_output=True, text=True, timeout=300)

    assert "syncing athlete 5001" in screen  # the bar's description while it runs
    assert "athlete 5002: ok" in screen
    assert "syncing" not in piped.stdout + piped.stderr
    assert "athlete 5001: ok" in piped.stdout
