"""The `backstride` command line, run as a user would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.config import load_settings
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, synthetic_world
from tests.lake_support import raw_traces

BIN = Path(sys.executable).parent / "backstride"


def run(home: Path, base_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BACKSTRIDE_HOME": str(home),
        "STRAVA_BASE_URL": base_url,
        "STRAVA_CLIENT_ID": str(DEMO_CLIENT_ID),
        "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "GX_ANALYTICS_ENABLED": "false",
    }
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True, timeout=300)


def test_add_sync_and_query_from_the_command_line_without_leaking_secrets(tmp_path, start_stub):
    world = synthetic_world(1, 12)
    athlete = next(iter(world.athletes.values()))
    server = start_stub(world)
    home = tmp_path / "home"

    added = run(
        home,
        server.base_url,
        "athletes",
        "add",
        "--refresh-token",
        athlete.refresh_token,
        "--email",
        athlete.email,
        "--timezone",
        "Europe/Paris",
    )
    synced = run(home, server.base_url, "sync")
    queried = run(home, server.base_url, "sql", "select count(*) as n from activities", "--format", "json")
    listed = run(home, server.base_url, "athletes", "list")
    refused = run(home, server.base_url, "sql", "delete from activities")

    assert added.returncode == 0, added.stderr
    assert f"added athlete {athlete.athlete_id}" in added.stdout
    assert synced.returncode == 0, synced.stderr
    assert f"athlete {athlete.athlete_id}: ok, 12 new or changed activities" in synced.stdout
    assert json.loads(queried.stdout) == [{"n": 12}]
    assert athlete.email in listed.stdout
    assert refused.returncode != 0
    assert "read-only" in refused.stderr and "DELETE" in refused.stderr

    tokens = json.loads((home / "secrets" / "tokens" / f"{athlete.athlete_id}.json").read_text())
    secrets = [tokens["access_token"], tokens["refresh_token"], athlete.refresh_token, DEMO_CLIENT_SECRET]
    everything = "".join(p.stdout + p.stderr for p in (added, synced, queried, listed, refused))
    for secret in secrets:
        assert secret not in everything
        assert raw_traces(load_settings({"BACKSTRIDE_HOME": str(home)}), None, secret) == []


def test_auth_url_names_the_scopes_and_the_configured_server(tmp_path, start_stub):
    server = start_stub(synthetic_world(1, 1))
    result = run(tmp_path, server.base_url, "auth", "url", "--redirect-uri", "http://127.0.0.1:9/cb")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(server.base_url + "/oauth/authorize?")
    assert (
        "read%2Cactivity%3Aread_all%2Cprofile%3Aread_all" in result.stdout
        or "read,activity:read_all,profile:read_all" in result.stdout
    )


def test_auth_exchange_adds_the_athlete(tmp_path, start_stub):
    world = synthetic_world(1, 3)
    athlete = next(iter(world.athletes.values()))
    server = start_stub(world)
    result = run(tmp_path, server.base_url, "auth", "exchange", athlete.auth_code, "--email", "new@example.com")
    assert result.returncode == 0, result.stderr
    assert f"added athlete {athlete.athlete_id}" in result.stdout
    assert (tmp_path / "secrets" / "tokens" / f"{athlete.athlete_id}.json").exists()
