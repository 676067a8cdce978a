"""Inside tasks, settings come from Airflow connections and a Variable; failures alert the operator."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from dags_support import DAGS_DIR
from e2e_support import smtp_server

sys.path.insert(0, str(DAGS_DIR))  # as Airflow does for the dags bundle

STRAVA = {"conn_type": "http", "login": "90210", "password": "s3cret-client", "host": "http://127.0.0.1:8710"}


@pytest.fixture
def common(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator:
    for key in ("AIRFLOW_CONN_STRAVA_DEFAULT", "AIRFLOW_CONN_SMTP_DEFAULT", "BACKSTRIDE_HOME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_BACKSTRIDE_HOME", str(tmp_path / "home"))
    import backstride_common

    yield backstride_common


def test_settings_take_the_strava_app_and_home_from_airflow(common, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_STRAVA_DEFAULT", json.dumps(STRAVA))
    s = common.backstride_settings()
    assert (s.client_id, s.client_secret, s.strava_base_url) == (90210, "s3cret-client", "http://127.0.0.1:8710")
    assert s.home == tmp_path / "home"


@pytest.mark.parametrize(
    ("conn", "expected"),
    [
        ({"host": "www.strava.com"}, "https://www.strava.com"),
        ({"host": "127.0.0.1", "port": 8710, "schema": "http"}, "http://127.0.0.1:8710"),
        ({"host": "ignored", "extra": {"base_url": "http://stub:1/"}}, "http://stub:1"),
    ],
)
def test_the_strava_base_url_can_be_given_several_ways(common, monkeypatch, conn: dict, expected: str) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_STRAVA_DEFAULT", json.dumps({"conn_type": "http", **conn}))
    assert common.backstride_settings().strava_base_url == expected


def test_without_smtp_default_digests_go_to_the_outbox(common) -> None:
    s = common.backstride_settings()
    assert type(common.mail_transport(s)).__name__ == "OutboxTransport"


def test_a_failed_task_emails_the_operator_without_secrets(common, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_STRAVA_DEFAULT", json.dumps(STRAVA))
    monkeypatch.setenv("AIRFLOW_VAR_BACKSTRIDE_OPERATOR_EMAIL", "ops@example.org")
    with smtp_server() as (mailbox, port):
        smtp = {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp))
        ti = SimpleNamespace(dag_id="strava_sync", task_id="sync_athletes", run_id="manual__1")
        common.notify_failure({"task_instance": ti, "exception": RuntimeError("every athlete's sync failed")})
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "ops@example.org"
    assert "strava_sync.sync_athletes" in message["Subject"]
    assert "s3cret-client" not in message.as_string()


def test_a_failure_alert_without_smtp_only_logs(common, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_BACKSTRIDE_OPERATOR_EMAIL", "ops@example.org")
    ti = SimpleNamespace(dag_id="weekly_digest", task_id="send_digests", run_id="r1")
    common.notify_failure({"task_instance": ti, "exception": RuntimeError("smtp down")})  # must not raise
    assert any("weekly_digest.send_digests failed" in r.getMessage() for r in caplog.records)


def test_owners_are_read_from_the_triggering_asset_events(common) -> None:
    events = {
        "strava_webhook_events": [
            SimpleNamespace(extra={"events": 3, "owner_ids": [7, 8]}),
            SimpleNamespace(extra={"events": 1, "owner_ids": [8, 9]}),
            SimpleNamespace(extra={}),  # e.g. an asset event recorded by hand in the UI
        ]
    }
    assert common.owners_from_events(events) == [7, 8, 9]
    assert common.owners_from_events({}) == []


def test_a_digest_waits_for_a_sync_after_the_athletes_own_sunday_night(common, tmp_path) -> None:
    from pipeline.config import load_settings
    from pipeline.warehouse import writer

    settings = load_settings({"BACKSTRIDE_HOME": str(tmp_path / "wh")})
    with writer(settings) as con:
        con.execute(
            """insert into athletes (athlete_id, email, timezone, digest_enabled) values
               (1, 'a@x.org', 'Europe/London', true), (2, 'b@x.org', 'America/Los_Angeles', true),
               (3, 'c@x.org', 'UTC', true), (4, 'd@x.org', 'UTC', false)"""
        )
        # 07:00 UTC on Monday 23 Nov: London's Sunday is over, Los Angeles' is not (23:00 Sunday)
        con.execute(
            """insert into sync_state (athlete_id, last_sync_at, last_status) values
               (1, '2026-11-23 07:00:00+00', 'ok'), (2, '2026-11-23 07:00:00+00', 'ok'), (4, '2026-11-23 07:00:00+00', 'ok')"""
        )
    ready, waiting = common.digest_readiness(settings, "2026-11-16")
    assert (ready, waiting) == ([1], [2, 3])
