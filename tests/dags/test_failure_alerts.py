"""A failed task emails the operator through the SMTP provider's notifier, over real SMTP on
127.0.0.1 (connection `smtp_default` from AIRFLOW_CONN_SMTP_DEFAULT), and never shows a secret.

The alert is best effort: without an address or a connection, or with the server down, it
only logs, and the task's own failure is what Airflow reports.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from types import SimpleNamespace

import pytest
from dags_support import DAGS_DIR
from loopback_support import Mailbox, free_port, running_smtp

sys.path.insert(0, str(DAGS_DIR))  # as Airflow does for the dags bundle

CLIENT_SECRET = "s3cret-client-value"
SMTP_PASSWORD = "smtp-pass-word"
ATHLETE_TOKEN = "athlete-access-token-123"
STRAVA = {"conn_type": "http", "login": "90210", "password": CLIENT_SECRET, "host": "http://127.0.0.1:8710"}


def smtp_connection(port: int, **extra: object) -> str:
    return json.dumps(
        {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": port,
            "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 5, **extra},
        }
    )


@pytest.fixture
def common(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    """backstride_common with a home holding one athlete's token, the Strava app and an operator address."""
    for key in ("AIRFLOW_CONN_SMTP_DEFAULT", "BACKSTRIDE_HOME", "BACKSTRIDE_OPERATOR_EMAIL"):
        monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    tokens = home / "secrets" / "tokens"
    tokens.mkdir(parents=True)
    (tokens / "7.json").write_text(json.dumps({"access_token": ATHLETE_TOKEN, "refresh_token": "refresh-token-456"}))
    monkeypatch.setenv("AIRFLOW_VAR_BACKSTRIDE_HOME", str(home))
    monkeypatch.setenv("AIRFLOW_CONN_STRAVA_DEFAULT", json.dumps(STRAVA))
    monkeypatch.setenv("AIRFLOW_VAR_BACKSTRIDE_OPERATOR_EMAIL", "ops@example.org")
    import backstride_common

    yield backstride_common


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with running_smtp() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(server.port))
        yield server.mailbox


def failure(error: BaseException, dag_id: str = "strava_sync", task_id: str = "sync_athletes") -> dict:
    ti = SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id="manual__1")
    return {"task_instance": ti, "exception": error}


def body_text(message: Message) -> str:
    """Every text part, decoded (the provider sends HTML in base64)."""
    return "".join(
        part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")
        for part in message.walk()
        if part.get_content_maintype() == "text"
    )


def test_the_alert_arrives_over_smtp_with_the_task_the_run_and_the_error(common, mailbox: Mailbox) -> None:
    common.notify_failure(failure(RuntimeError("every athlete's sync failed")))
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "ops@example.org"
    assert message["From"] == common.ALERT_FROM
    assert message["Subject"] == "backstride: strava_sync.sync_athletes failed in run manual__1: RuntimeError"
    body = body_text(message)
    assert "every athlete&#x27;s sync failed" in body  # HTML-escaped in the provider's HTML part
    assert "manual__1" in body


def test_the_sender_comes_from_the_connection_when_it_names_one(common, monkeypatch, mailbox: Mailbox) -> None:
    port = int(json.loads(os.environ["AIRFLOW_CONN_SMTP_DEFAULT"])["port"])
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(port, from_email="alerts@example.org"))
    common.notify_failure(failure(RuntimeError("boom")))
    assert mailbox.messages[0]["From"] == "alerts@example.org"


def test_secrets_in_the_error_text_are_replaced_before_sending(common, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_smtp() as server:
        conn = json.loads(smtp_connection(server.port))
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({**conn, "password": SMTP_PASSWORD}))
        error = RuntimeError(f"GET /push_subscriptions?client_secret={CLIENT_SECRET} {ATHLETE_TOKEN} {SMTP_PASSWORD}")
        common.notify_failure(failure(error))
    raw = server.mailbox.messages[0].as_string() + body_text(server.mailbox.messages[0])
    for secret in (CLIENT_SECRET, ATHLETE_TOKEN, SMTP_PASSWORD):
        assert secret not in raw
    assert "client_secret=***" in raw


def test_template_syntax_in_the_error_is_sent_as_written(common, mailbox: Mailbox) -> None:
    common.notify_failure(failure(ValueError("bad value {{ ti.task_id }} {% if %}")))
    assert "{{ ti.task_id }} {% if %}" in body_text(mailbox.messages[0])


def test_without_an_operator_address_nothing_is_sent(common, monkeypatch, mailbox: Mailbox) -> None:
    monkeypatch.delenv("AIRFLOW_VAR_BACKSTRIDE_OPERATOR_EMAIL")
    common.notify_failure(failure(RuntimeError("boom")))
    assert mailbox.messages == []


def test_the_address_may_come_from_the_environment(common, monkeypatch, mailbox: Mailbox) -> None:
    monkeypatch.delenv("AIRFLOW_VAR_BACKSTRIDE_OPERATOR_EMAIL")
    monkeypatch.setenv("BACKSTRIDE_OPERATOR_EMAIL", "night-shift@example.org")
    common.notify_failure(failure(RuntimeError("boom")))
    assert mailbox.messages[0]["To"] == "night-shift@example.org"


def test_an_unreachable_smtp_server_is_logged_and_the_callback_returns(common, monkeypatch, caplog) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_connection(free_port()))  # nothing listens there
    with caplog.at_level(logging.WARNING):
        common.notify_failure(failure(RuntimeError("boom"), dag_id="weekly_digest", task_id="send_digests"))
    messages = [r.getMessage() for r in caplog.records]
    assert any("weekly_digest.send_digests failed" in m for m in messages)
    assert any(m.startswith("could not email the operator") for m in messages)
