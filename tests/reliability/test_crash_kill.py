"""SIGKILL during sync, build and digest, at many points spread over the run.

After each kill the next run starts from what is on disk. In the end the warehouse equals
a clean run's, the landing table lost nothing, and every athlete got exactly one email.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_support import BIN, add_athletes, cli, env_for
from sync_support import snapshot

from pipeline.config import Settings
from pipeline.strava_stub.demo_data import synthetic_world
from tests.lake_support import open_lake

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
MARTS = ("weekly_load", "risk_flags", "shoe_status")


def kill_when(env: dict[str, str], args: list[str], ready, extra_delay: float = 0.0) -> bool:
    """Start `backstride ARGS`, SIGKILL it once `ready()` is true (plus a delay). True if killed."""
    proc = subprocess.Popen([str(BIN), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while proc.poll() is None and not ready():
            time.sleep(0.01)
        if extra_delay:
            time.sleep(extra_delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def build_lock_held(settings_home: Path) -> bool:
    """True while a `backstride build` holds its step lock, i.e. while it builds."""
    import fcntl

    path = Settings(home=settings_home).locks_dir / "build.lock"
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def tables(home: Path) -> dict:
    s = Settings(home=home)
    out = snapshot(s)
    out.update(snapshot(s, MARTS))
    con = open_lake(s, read_only=True)
    try:
        out["digest_log"] = con.execute("select athlete_id, week_start, status from digest_log order by all").fetchall()
        out["landing"] = set(
            con.execute("select endpoint, object_id, payload_hash from landing where endpoint <> 'athlete'").fetchall()
        )
    finally:
        con.close()
    return out


def test_killed_runs_converge_to_a_clean_run_with_one_email_each(tmp_path, start_stub, smtp, record):
    world = synthetic_world(3, 40)
    clean_server = start_stub(world, short_limit=5000, daily_limit=50000)

    clean_home = tmp_path / "clean"
    clean_env = env_for(clean_home, clean_server.base_url, smtp.url)
    add_athletes(clean_env, world)
    done = cli(clean_env, "run")
    assert done.returncode == 0, done.stdout + done.stderr
    clean = tables(clean_home)
    total_requests = clean_server.stats()["api_requests"]
    emails_clean = dict(smtp.mailbox.per_recipient())
    smtp.mailbox.messages.clear()

    server = start_stub(
        world, short_limit=5000, daily_limit=50000
    )  # its own server: the clean run rotated the refresh tokens
    home = tmp_path / "killed"
    env = env_for(home, server.base_url, smtp.url)
    add_athletes(env, world)
    kills = 0
    # sync: killed after a growing number of Strava requests, spread over the whole sync
    for fraction in (0.05, 0.3, 0.55, 0.8, 0.95):
        server.reset_stats()
        target = max(1, int(total_requests * fraction))
        kills += kill_when(env, ["sync"], lambda t=target: server.stats()["api_requests"] >= t)
    # build: killed while it builds, at several delays
    for delay in (0.0, 0.1, 0.3):
        kills += kill_when(env, ["build"], lambda: build_lock_held(home), delay)
    # digest: killed as the first emails go out
    for delay in (0.0, 0.05):
        sent_before = len(smtp.mailbox.messages)
        kills += kill_when(env, ["run"], lambda n=sent_before: len(smtp.mailbox.messages) > n, delay)

    final = cli(env, "run")
    assert final.returncode == 0, final.stdout + final.stderr
    again = cli(env, "run")  # a retried job sends nothing twice
    assert again.returncode == 0, again.stdout + again.stderr

    result = tables(home)
    assert kills >= 7
    for name in ("activities", "splits", "gear", "stream_features", *MARTS, "digest_log"):
        assert result[name] == clean[name], name
    assert clean["landing"] <= result["landing"]
    # Exactly one digest per athlete: a kill between the SMTP server's acceptance and our record
    # of it (the one window no client can close) may deliver a second copy, but it carries the
    # same Message-ID, so the runner's mail client shows one message.
    assert set(smtp.mailbox.per_recipient()) == set(emails_clean)
    assert all(n == 1 for n in distinct_message_ids(smtp).values()), distinct_message_ids(smtp)
    redelivered = sum(smtp.mailbox.per_recipient().values()) - len(emails_clean)
    record.update(
        kills=kills, rows_lost=0, duplicate_emails=0, same_id_redeliveries=redelivered, athletes=len(world.athletes)
    )


def distinct_message_ids(smtp) -> dict[str, int]:
    ids: dict[str, set[str]] = {}
    for msg in smtp.mailbox.messages:
        for r in str(msg["X-Envelope-To"]).split(", "):
            ids.setdefault(r, set()).add(str(msg["Message-ID"]))
    return {r: len(v) for r, v in ids.items()}
