"""`backstride digest` and `backstride athletes set --digest`: thin commands, honest exit codes."""

from __future__ import annotations

from conftest import WEEK, Warehouse
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def invoke(home, *args: str, smtp_url: str | None = None):
    env = {"BACKSTRIDE_HOME": str(home), "BACKSTRIDE_SMTP_URL": smtp_url or ""}
    return runner.invoke(app, list(args), env=env)


def two_athletes(warehouse: Warehouse) -> None:
    for athlete_id in (1, 2):
        warehouse.athlete(athlete_id)
        warehouse.week(athlete_id)
    warehouse.save()


def test_digest_exits_zero_and_lists_what_it_sent(warehouse, home, smtp_server):
    two_athletes(warehouse)
    result = invoke(home, "digest", "--week", WEEK.isoformat(), smtp_url=smtp_server.url)

    assert result.exit_code == 0, result.output
    assert "athlete 1 week 2026-11-16: sent" in result.output
    assert "2 sent, 0 already sent, 0 disabled, 0 failed" in result.output
    assert len(smtp_server.mailbox.messages) == 2


def test_digest_exits_non_zero_when_any_athlete_failed(warehouse, home, smtp_server):
    two_athletes(warehouse)
    smtp_server.mailbox.refuse.add("runner2@example.com")
    result = invoke(home, "digest", "--week", WEEK.isoformat(), smtp_url=smtp_server.url)

    assert result.exit_code == 1
    assert "1 sent, 0 already sent, 0 disabled, 1 failed" in result.output


def test_resend_option_sends_again(warehouse, home, smtp_server):
    two_athletes(warehouse)
    invoke(home, "digest", "--week", WEEK.isoformat(), "--athlete", "1", smtp_url=smtp_server.url)
    again = invoke(home, "digest", "--week", WEEK.isoformat(), "--athlete", "1", smtp_url=smtp_server.url)
    resent = invoke(home, "digest", "--week", WEEK.isoformat(), "--athlete", "1", "--resend", smtp_url=smtp_server.url)

    assert "already sent" in again.output and again.exit_code == 0
    assert "athlete 1 week 2026-11-16: sent" in resent.output
    assert len(smtp_server.mailbox.messages) == 2


def test_week_that_is_not_a_monday_is_refused(warehouse, home):
    two_athletes(warehouse)
    result = invoke(home, "digest", "--week", "2026-11-18")

    assert result.exit_code == 1
    assert "Monday" in result.output


def test_athletes_set_digest_off_stops_the_email(warehouse, home):
    two_athletes(warehouse)
    assert invoke(home, "athletes", "set", "2", "--digest", "off").exit_code == 0
    result = invoke(home, "digest", "--week", WEEK.isoformat())

    assert "athlete 2 week 2026-11-16: disabled" in result.output
    assert (home / "outbox" / "2026-11-16" / "1.eml").exists()
    assert not (home / "outbox" / "2026-11-16" / "2.eml").exists()


def test_athletes_set_rejects_other_values_and_unknown_athletes(warehouse, home):
    two_athletes(warehouse)
    assert invoke(home, "athletes", "set", "2", "--digest", "maybe").exit_code == 1
    assert invoke(home, "athletes", "set", "99", "--digest", "off").exit_code == 1
