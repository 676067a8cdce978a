"""Delivery: exactly once, per-athlete failures, SMTP dropping mid-batch, opt-out, the outbox."""

from __future__ import annotations

import datetime as dt
import json
from email import message_from_bytes, policy

import pytest
from conftest import WEEK, Warehouse, smtp_settings

from pipeline.config import Settings
from pipeline.digest import last_complete_week, send_digests, set_digest_enabled
from pipeline.digest.mailer import SmtpConfig, SmtpTransport
from tests.lake_support import open_lake


def log_rows(settings: Settings) -> dict[int, tuple]:
    con = open_lake(settings, read_only=True)
    try:
        rows = con.execute(
            "select athlete_id, status, attempts, message_id, transport, error from digest_log order by athlete_id"
        ).fetchall()
    finally:
        con.close()
    return {r[0]: r[1:] for r in rows}


def athletes(warehouse: Warehouse, *ids: int, **kw) -> Settings:
    for athlete_id in ids:
        warehouse.athlete(athlete_id, **kw)
        warehouse.week(athlete_id)
    return warehouse.save()


@pytest.fixture
def smtp(warehouse, home, smtp_server) -> Warehouse:
    warehouse.settings = smtp_settings(home, smtp_server)
    return warehouse


def test_sent_is_recorded_with_the_message_id_the_server_received(smtp, smtp_server):
    settings = athletes(smtp, 1)
    report = send_digests(settings, week=WEEK)

    [msg] = smtp_server.mailbox.messages
    assert report.by_athlete()[1].status == "sent"
    assert report.by_athlete()[1].message_id == msg["Message-ID"]
    assert log_rows(settings)[1] == ("sent", 1, msg["Message-ID"], "smtp", None)


def test_second_run_sends_nothing(smtp, smtp_server):
    settings = athletes(smtp, 1, 2)
    send_digests(settings, week=WEEK)
    report = send_digests(settings, week=WEEK)

    assert len(smtp_server.mailbox.messages) == 2
    assert [r.status for r in report.results] == ["skipped_already_sent"] * 2
    assert report.ok


def test_resend_sends_again_and_counts_the_attempt(smtp, smtp_server):
    settings = athletes(smtp, 1)
    send_digests(settings, week=WEEK)
    report = send_digests(settings, week=WEEK, resend=True)

    assert report.by_athlete()[1].status == "sent"
    assert len(smtp_server.mailbox.messages) == 2
    assert log_rows(settings)[1][:2] == ("sent", 2)


def test_another_week_is_a_new_digest(smtp, smtp_server):
    settings = athletes(smtp, 1)
    send_digests(settings, week=WEEK)
    report = send_digests(settings, week=WEEK + dt.timedelta(weeks=1))

    assert report.by_athlete()[1].status == "sent"
    assert len(smtp_server.mailbox.messages) == 2


def test_digest_disabled_sends_nothing_and_records_nothing(smtp, smtp_server):
    smtp.athlete(2)
    settings = athletes(smtp, 1, digest_enabled=False)
    report = send_digests(settings, week=WEEK)

    assert report.by_athlete()[1].status == "disabled"
    assert smtp_server.mailbox.to("runner1@example.com") == []
    assert 1 not in log_rows(settings)
    assert report.by_athlete()[2].status == "sent"


def test_athletes_set_digest_off_then_on(smtp, smtp_server):
    settings = athletes(smtp, 1)
    set_digest_enabled(settings, 1, False)
    assert send_digests(settings, week=WEEK).by_athlete()[1].status == "disabled"
    set_digest_enabled(settings, 1, True)
    assert send_digests(settings, week=WEEK).by_athlete()[1].status == "sent"


def test_setting_an_unknown_athlete_is_an_error(smtp):
    settings = athletes(smtp, 1)
    with pytest.raises(LookupError):
        set_digest_enabled(settings, 99, False)


def test_refused_address_fails_only_that_athlete(smtp, smtp_server):
    settings = athletes(smtp, 1, 2, 3)
    smtp_server.mailbox.refuse.add("runner2@example.com")
    report = send_digests(settings, week=WEEK)

    statuses = {r.athlete_id: r.status for r in report.results}
    assert statuses == {1: "sent", 2: "failed", 3: "sent"}
    assert not report.ok
    assert "550" in report.by_athlete()[2].error
    rows = log_rows(settings)
    assert rows[2][0] == "failed" and "550" in rows[2][4]
    assert len(smtp_server.mailbox.messages) == 2


def test_failed_athlete_is_retried_by_the_next_run(smtp, smtp_server):
    settings = athletes(smtp, 1, 2)
    smtp_server.mailbox.refuse.add("runner2@example.com")
    send_digests(settings, week=WEEK)
    smtp_server.mailbox.refuse.clear()
    report = send_digests(settings, week=WEEK)

    assert {r.athlete_id: r.status for r in report.results} == {1: "skipped_already_sent", 2: "sent"}
    assert log_rows(settings)[2][:2] == ("sent", 2)
    assert len(smtp_server.mailbox.to("runner2@example.com")) == 1


def test_invalid_address_fails_before_any_smtp(smtp, smtp_server):
    smtp.athlete(1, email="not an address")
    settings = athletes(smtp, 2)
    report = send_digests(settings, week=WEEK)

    assert report.by_athlete()[1].status == "failed"
    assert "not valid" in report.by_athlete()[1].error
    assert report.by_athlete()[2].status == "sent"
    assert len(smtp_server.mailbox.messages) == 1


def test_crlf_in_name_or_address_cannot_inject_headers(smtp, smtp_server):
    smtp.athlete(1, firstname="Eve\r\nBcc: victim@example.com\r\nX-Evil: 1")
    smtp.athlete(2, email="a@example.com\r\nBcc: victim@example.com")
    settings = athletes(smtp, 3)
    report = send_digests(settings, week=WEEK)

    [msg] = smtp_server.mailbox.to("runner1@example.com")
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["X-Envelope-To"] == "runner1@example.com"
    assert report.by_athlete()[2].status == "failed"
    assert smtp_server.mailbox.to("victim@example.com") == []


def test_smtp_dropping_mid_batch_leaves_the_rest_for_the_next_run(smtp, smtp_server):
    settings = athletes(smtp, 1, 2, 3, 4, 5, 6)
    smtp_server.mailbox.drop_after = 2  # accepts two messages, then every connection dies at DATA
    first = send_digests(settings, week=WEEK)

    assert [r.status for r in first.results] == ["sent", "sent", "failed", "failed", "failed", "failed"]
    assert not first.ok
    assert "not attempted" in first.by_athlete()[6].error  # the server was given up on, not hammered
    received = {m["X-Envelope-To"] for m in smtp_server.mailbox.messages}
    assert received == {"runner1@example.com", "runner2@example.com"}

    smtp_server.mailbox.drop_after = None
    second = send_digests(settings, week=WEEK)

    assert [r.status for r in second.results] == ["skipped_already_sent"] * 2 + ["sent"] * 4
    assert sorted(m["X-Envelope-To"] for m in smtp_server.mailbox.messages) == [
        f"runner{i}@example.com" for i in range(1, 7)
    ]  # everyone exactly once
    assert {row[0] for row in log_rows(settings).values()} == {"sent"}


def test_unreachable_server_fails_every_athlete_without_leaking_the_password(warehouse, home):
    warehouse.settings = Settings(home=home, smtp_url="smtp://digest:s3cret-pw@127.0.0.1:9/")
    settings = athletes(warehouse, 1)
    report = send_digests(settings, week=WEEK)

    result = report.by_athlete()[1]
    assert result.status == "failed" and "127.0.0.1:9" in result.error
    assert "s3cret-pw" not in repr(report)
    assert "s3cret-pw" not in repr(log_rows(settings))


def test_login_refused_never_shows_the_password():
    config = SmtpConfig.from_url("smtp://digest:s3cret-pw@127.0.0.1:9")
    assert "s3cret-pw" not in repr(config)
    assert config.username == "digest" and config.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(SmtpTransport(config).__dict__)


def test_outbox_without_smtp_writes_eml_and_browser_preview(warehouse):
    warehouse.shoe(1, "g1", "Pegasus", 640)
    settings = athletes(warehouse, 1)
    report = send_digests(settings, week=WEEK)

    result = report.by_athlete()[1]
    eml = settings.outbox_dir / "2026-11-16" / "1.eml"
    preview = settings.outbox_dir / "2026-11-16" / "1.html"
    assert result.status == "sent" and result.path == str(eml)
    msg = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["Subject"].startswith("Week of 16 Nov")
    html = preview.read_text()
    assert "cid:" not in html and html.count('src="data:image/png;base64,') == 2
    assert log_rows(settings)[1][3] == "outbox"


def test_one_athlete_only(smtp, smtp_server):
    settings = athletes(smtp, 1, 2)
    report = send_digests(settings, week=WEEK, athlete_id=2)

    assert [r.athlete_id for r in report.results] == [2]
    assert smtp_server.mailbox.to("runner1@example.com") == []


def test_unknown_athlete_is_an_error(smtp):
    settings = athletes(smtp, 1)
    with pytest.raises(LookupError):
        send_digests(settings, week=WEEK, athlete_id=42)


def test_week_must_be_a_monday(smtp):
    settings = athletes(smtp, 1)
    with pytest.raises(ValueError, match="Monday"):
        send_digests(settings, week=WEEK + dt.timedelta(days=2))


@pytest.mark.parametrize(
    ("now_utc", "zone", "expected"),
    [
        # Monday 23 Nov 2026, 06:00 UTC: in London it is Monday, so last week is complete.
        (dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC), "Europe/London", dt.date(2026, 11, 16)),
        # ... but in Los Angeles it is still Sunday evening: the complete week is the one before.
        (dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC), "America/Los_Angeles", dt.date(2026, 11, 9)),
        # Sunday 22 Nov, 20:00 UTC: already Monday morning in Auckland.
        (dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC), "Pacific/Auckland", dt.date(2026, 11, 16)),
        (dt.datetime(2026, 11, 22, 20, 0, tzinfo=dt.UTC), "Not/AZone", dt.date(2026, 11, 9)),
    ],
)
def test_default_week_is_the_last_complete_week_in_the_athletes_zone(now_utc, zone, expected):
    assert last_complete_week(zone, now_utc) == expected


class Collecting:
    """A transport of our own, as the Airflow DAG passes one: records messages, fails on request."""

    name = "collecting"

    def __init__(self, fail_for: set[str] = frozenset(), crash_after: int | None = None) -> None:
        self.sent: list = []
        self.fail_for = fail_for
        self.crash_after = crash_after

    def send(self, message) -> str:
        if self.crash_after is not None and len(self.sent) >= self.crash_after:
            raise KeyboardInterrupt  # the process dies mid-batch
        if message["To"].addresses[0].addr_spec in self.fail_for:
            raise RuntimeError("adapter blew up")
        self.sent.append(message)
        return str(message["Message-ID"])

    def close(self) -> None:
        pass


def test_any_error_from_a_given_transport_fails_only_that_athlete(warehouse):
    settings = athletes(warehouse, 1, 2, 3)
    transport = Collecting(fail_for={"runner2@example.com"})
    report = send_digests(settings, week=WEEK, transport=transport)

    assert {r.athlete_id: r.status for r in report.results} == {1: "sent", 2: "failed", 3: "sent"}
    assert "adapter blew up" in report.by_athlete()[2].error
    assert log_rows(settings)[1][3] == "collecting"
    assert len(transport.sent) == 2


def test_a_crash_mid_batch_neither_loses_nor_repeats(warehouse):
    settings = athletes(warehouse, 1, 2, 3, 4)
    with pytest.raises(KeyboardInterrupt):
        send_digests(settings, week=WEEK, transport=Collecting(crash_after=2))
    assert {k: v[0] for k, v in log_rows(settings).items()} == {1: "sent", 2: "sent"}  # recorded as they went

    transport = Collecting()
    report = send_digests(settings, week=WEEK, transport=transport)

    assert [str(m["To"]) for m in transport.sent] == ["Sam <runner3@example.com>", "Sam <runner4@example.com>"]
    assert report.summary() == {"sent": 2, "skipped_already_sent": 2, "disabled": 0, "failed": 0}


def test_no_email_address_fails_over_smtp_but_still_fills_the_outbox(warehouse, home, smtp_server):
    warehouse.athlete(1, email="")
    warehouse.week(1)
    warehouse.save()
    over_smtp = send_digests(smtp_settings(home, smtp_server), week=WEEK)
    assert over_smtp.by_athlete()[1].status == "failed"
    assert "no email address" in over_smtp.by_athlete()[1].error

    to_outbox = send_digests(Settings(home=home), week=WEEK)
    assert to_outbox.by_athlete()[1].status == "sent"
    assert (home / "outbox" / "2026-11-16" / "1.eml").exists()


def test_a_failed_resend_keeps_the_earlier_sent_record(smtp, smtp_server):
    settings = athletes(smtp, 1)
    send_digests(settings, week=WEEK, transport=Collecting())
    smtp_server.mailbox.refuse.add("runner1@example.com")
    report = send_digests(settings, week=WEEK, resend=True)

    assert report.by_athlete()[1].status == "failed"
    status, attempts, _message_id, transport, error = log_rows(settings)[1]
    assert (status, attempts, transport) == ("sent", 2, "collecting")  # still sent once; no resend next run
    assert "550" in error


def test_a_kill_between_acceptance_and_the_log_row_does_not_send_twice(warehouse, monkeypatch):
    """The gap the digest_log commit needs is covered by the journal written on acceptance."""
    from pipeline.digest import journal

    settings = athletes(warehouse, 1, 2)
    transport = Collecting()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies before the digest_log row is committed

    monkeypatch.setattr(journal, "record", killed)
    with pytest.raises(KeyboardInterrupt):
        send_digests(settings, week=WEEK, transport=transport)
    assert len(transport.sent) == 1 and log_rows(settings) == {}
    monkeypatch.undo()

    report = send_digests(settings, week=WEEK, transport=transport)

    assert {r.athlete_id: r.status for r in report.results} == {1: "skipped_already_sent", 2: "sent"}
    assert len(transport.sent) == 2
    assert log_rows(settings)[1][:3] == ("sent", 1, transport.sent[0]["Message-ID"])
    assert not (settings.home / "digest_sent.jsonl").exists()


def test_journal_replay_is_idempotent_and_skips_a_torn_line(warehouse):
    settings = athletes(warehouse, 1)
    send_digests(settings, week=WEEK, transport=Collecting())
    before = log_rows(settings)[1]
    journal = settings.home / "digest_sent.jsonl"
    entry = {"athlete_id": 1, "week_start": "2026-11-16", "message_id": before[2], "transport": "collecting",
             "sent_at": "2026-11-23T06:00:00+00:00"}  # fmt: skip
    journal.write_text(json.dumps(entry) + '\n{"athlete_id": 2, "week_st')  # the second line was torn

    report = send_digests(settings, week=WEEK, transport=Collecting())

    assert report.by_athlete()[1].status == "skipped_already_sent"
    assert log_rows(settings)[1] == before  # same message: not counted twice
    assert not journal.exists()


def test_sigkill_mid_batch_then_a_new_run_sends_only_the_rest(smtp, smtp_server):
    """A real `backstride digest` process killed while the mail server holds its third message."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    settings = athletes(smtp, 1, 2, 3, 4)
    mailbox = smtp_server.mailbox
    mailbox.hold_after = 2
    env = {**os.environ, "BACKSTRIDE_HOME": str(settings.home), "BACKSTRIDE_SMTP_URL": smtp_server.url}
    backstride = Path(sys.executable).with_name("backstride")
    proc = subprocess.Popen([str(backstride), "digest", "--week", WEEK.isoformat()], env=env)
    try:
        assert mailbox.holding.wait(60), "the digest run never reached the third message"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    mailbox.hold_after = None
    mailbox.release.set()

    report = send_digests(settings, week=WEEK)

    assert [r.status for r in report.results] == ["skipped_already_sent"] * 2 + ["sent"] * 2
    assert sorted(m["X-Envelope-To"] for m in mailbox.messages) == [f"runner{i}@example.com" for i in range(1, 5)]
