"""Honest emails on incomplete data: held after a failed sync, and never an all-clear on what was not seen.

Received by a real SMTP server on 127.0.0.1 from a real DuckDB warehouse; see shared/evidence.md,
"How to word it": "nothing found" is only said of what was checked.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from conftest import WEEK, WEEK_END, Warehouse, html_of, smtp_settings, text_of

from pipeline.config import Settings
from pipeline.digest import FACTORS, send_digests
from tests.lake_support import open_lake

ALL_CLEARS = ("no runs logged", "No runs were logged", "a steady week", "found none this week")


class Marked(HTMLParser):
    """The data-* markers of the HTML part: fired, fine and unjudged factors, gaps and notes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.attrs: list[dict[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.attrs.append(dict(attrs))

    def values(self, name: str) -> list[str]:
        return [str(a[name]) for a in self.attrs if a.get(name)]


def flat(text: str) -> str:
    return " ".join(text.split())


def digest_log(settings: Settings) -> dict[int, str]:
    con = open_lake(settings, read_only=True)
    try:
        return dict(con.execute("select athlete_id, status from digest_log").fetchall())
    finally:
        con.close()


@pytest.fixture
def smtp(warehouse, home, smtp_server) -> Warehouse:
    warehouse.settings = smtp_settings(home, smtp_server)
    return warehouse


def runner(warehouse: Warehouse, athlete_id: int = 1, **kw) -> int:
    """An athlete with twelve weeks of running, synced after the week ended."""
    warehouse.athlete(athlete_id, **kw)
    for i in range(12):
        warehouse.week(athlete_id, WEEK - dt.timedelta(weeks=i), 30.0 + i, prev4_avg_km=32.0)
    warehouse.sync(athlete_id)
    return athlete_id


def one_message(smtp: Warehouse, smtp_server):
    report = send_digests(smtp.save(), week=WEEK)
    assert report.ok, report
    [msg] = smtp_server.mailbox.messages
    return msg


# --- held: the last sync failed or has not listed the week ------------------------------------


def test_a_failed_sync_sends_nothing_records_nothing_and_is_reported(smtp, smtp_server):
    runner(smtp, 1)
    smtp.sync(1, "error", message="Strava answered 500 five times")
    runner(smtp, 2)
    settings = smtp.save()

    report = send_digests(settings, week=WEEK)

    held = report.by_athlete()[1]
    assert held.status == "held"
    assert "the last sync failed: Strava answered 500 five times" in held.reason
    assert report.held == [held] and report.ok  # waiting for data is not a failed delivery
    assert smtp_server.mailbox.to("runner1@example.com") == []
    assert 1 not in digest_log(settings)  # nothing recorded as sent
    assert report.by_athlete()[2].status == "sent"


def test_a_held_week_is_sent_once_after_a_sync_that_succeeds(smtp, smtp_server):
    runner(smtp, 1)
    smtp.sync(1, "error", message="connection reset")
    settings = smtp.save()
    assert send_digests(settings, week=WEEK).by_athlete()[1].status == "held"

    smtp.sync(1, "ok")  # the next sync got everything
    smtp.save()
    later = send_digests(settings, week=WEEK)
    again = send_digests(settings, week=WEEK)

    assert later.by_athlete()[1].status == "sent"
    assert again.by_athlete()[1].status == "skipped_already_sent"
    assert len(smtp_server.mailbox.to("runner1@example.com")) == 1
    assert digest_log(settings) == {1: "sent"}


@pytest.mark.parametrize(
    ("sync", "athlete", "reason"),
    [
        ({"status": "needs_reauth", "message": "refresh token revoked"}, {}, "the athlete has to connect again"),
        ({"status": "ok"}, {"needs_reauth": True}, "the athlete has to connect again"),
        (
            {
                "status": "deferred",
                "message": "rate limit reserve reached",
                "resume_after": WEEK_END - dt.timedelta(days=3),
            },
            {},
            "deferred before it listed all of this week's activities: rate limit reserve reached",
        ),
        (
            {"status": "deferred", "resume_before": WEEK_END + dt.timedelta(hours=6)},  # newest first, first page
            {},
            "deferred before it listed all of this week's activities",
        ),
        ({"status": "ok", "at": WEEK_END - dt.timedelta(days=2)}, {}, "not been read since the week ended"),
        (
            {"status": "ok", "listed": WEEK_END - dt.timedelta(days=2)},  # synced since, but listing skipped
            {},
            "not been read since the week ended",
        ),
    ],
    ids=[
        "needs-reauth-status",
        "needs-reauth-athlete",
        "deferred-mid-listing",
        "deferred-newest-first-inside-the-week",
        "synced-before-week-end",
        "listed-before-week-end",
    ],
)
def test_a_sync_that_cannot_vouch_for_the_week_holds_it(smtp, smtp_server, sync, athlete, reason):
    runner(smtp, 1, **athlete)
    smtp.sync(1, **sync)

    report = send_digests(smtp.save(), week=WEEK)

    assert report.by_athlete()[1].status == "held"
    assert reason in report.by_athlete()[1].reason
    assert smtp_server.mailbox.messages == []


def test_a_deferred_sync_whose_listing_had_passed_the_week_sends(smtp, smtp_server):
    runner(smtp, 1)
    smtp.sync(1, "deferred", resume_after=WEEK_END + dt.timedelta(hours=1))  # paging on, past Sunday night
    runner(smtp, 2)
    smtp.sync(2, "deferred", message="rate limit")  # listing finished; the fetch queue was cut short
    runner(smtp, 3)
    smtp.sync(3, "deferred", resume_before=WEEK_END + dt.timedelta(hours=6))  # newest first ...
    smtp.run(3, 81, "2026-11-14T08:00:00")  # ... and already back past the week's Monday

    report = send_digests(smtp.save(), week=WEEK)

    assert [r.status for r in report.results] == ["sent", "sent", "sent"]


def test_the_cli_lists_held_athletes_with_the_reason(smtp, home, smtp_server):
    from typer.testing import CliRunner

    from pipeline.cli import app

    runner(smtp, 1)
    smtp.sync(1, "error", message="Strava answered 503")
    runner(smtp, 2)
    smtp.save()
    env = {"BACKSTRIDE_HOME": str(home), "BACKSTRIDE_SMTP_URL": smtp_server.url}
    result = CliRunner().invoke(app, ["digest", "--week", WEEK.isoformat()], env=env)

    assert result.exit_code == 0, result.output
    assert "athlete 1 week 2026-11-16: held (the last sync failed: Strava answered 503;" in flat(result.output)
    assert "1 sent, 0 already sent, 0 disabled, 0 failed, 1 held" in result.output


# --- sent, saying what could not be seen ---------------------------------------------------------


def test_a_complete_week_after_a_good_sync_has_no_gaps_section(smtp, smtp_server):
    runner(smtp, 1)
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-gap") == [] and marks.values("data-factor-unjudged") == []
    assert "could not see this week" not in text_of(msg).lower()
    assert sorted(marks.values("data-factor-fine")) == sorted(f.key for f in FACTORS)
    assert msg["Subject"] == "Week of 16 Nov: a steady week"


def test_pending_streams_name_posture_as_not_judged_and_give_it_no_fine_line(smtp, smtp_server):
    runner(smtp, 1)
    smtp.sync(1, "deferred", message="rate limit")  # listed the week, then ran out of quota
    for activity_id, day in ((11, "2026-11-17T07:00:00"), (12, "2026-11-21T09:00:00")):
        smtp.run(1, activity_id, day)
        smtp.pending(1, activity_id, "streams")
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-gap") == ["pending_streams"]
    assert marks.values("data-factor-unjudged") == ["posture"]
    assert "posture" not in marks.values("data-factor-fine")
    assert "strength" in marks.values("data-factor-fine")  # what was checked can still be fine
    text = flat(text_of(msg))
    assert "2 runs of this week are still waiting for their streams from Strava" in text
    assert "Posture and form: cadence and form late in long runs." in text
    assert "Posture and form: nothing to report" not in text
    assert msg["Subject"] == "Week of 16 Nov: some data still missing"
    for all_clear in ALL_CLEARS:
        assert all_clear not in text and all_clear not in flat(html_of(msg))


def test_pending_details_leave_warm_ups_and_pain_notes_unjudged(smtp, smtp_server):
    runner(smtp, 1)
    smtp.run(1, 21, "2026-11-05T07:00:00")  # the week before: still inside the 4-week windows
    smtp.pending(1, 21, "detail")
    smtp.run(1, 22, "2026-09-01T07:00:00")  # long before any window: does not matter
    smtp.pending(1, 22, "detail")
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-factor-unjudged") == ["injury", "preparation"]
    assert not {"injury", "preparation"} & set(marks.values("data-factor-fine"))
    assert "1 run of this week or the four weeks before is still waiting for its details" in flat(text_of(msg))


def test_quarantined_activities_of_the_week_leave_every_factor_unjudged(smtp, smtp_server):
    runner(smtp, 1)
    smtp.quarantined(1, 31, "2026-11-18T07:30:00")
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert sorted(marks.values("data-factor-unjudged")) == sorted(f.key for f in FACTORS)
    assert marks.values("data-factor-fine") == []
    assert "data-quality" in marks.values("data-note")
    assert "1 of your activities from this week had values backstride could not check" in flat(text_of(msg))
    assert "NOTHING TO REPORT ON THE SEVEN FACTORS" not in text_of(msg)


def test_quarantined_rows_before_the_week_and_of_other_tables_are_said(smtp, smtp_server):
    runner(smtp, 1)
    smtp.quarantined(1, 41, "2026-11-02T07:30:00")  # two weeks before: the 4-week comparisons miss it
    smtp.run(1, 42, "2026-11-19T07:00:00")
    smtp.quarantined(1, 42, None, table="splits")  # this week's run lost its kilometre splits
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-gap") == ["quarantine_earlier", "quarantine_splits"]
    assert "data-quality" not in marks.values("data-note")  # the week's own activities are all there
    assert set(marks.values("data-factor-unjudged")) == {"distance", "strength", "surface", "preparation", "injury"}
    text = flat(text_of(msg))
    assert "1 of your activities from the four weeks before had values backstride could not check" in text
    assert "The kilometre splits of 1 run had values backstride could not check" in text


def test_a_shoe_strava_could_not_find_leaves_shoe_mileage_unjudged(smtp, smtp_server):
    runner(smtp, 1)
    smtp.run(1, 51, "2026-11-18T07:00:00", gear_id="g404")
    smtp.gear_missing(1, "g404")
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-factor-unjudged") == ["shoes"]
    assert "shoes" not in marks.values("data-factor-fine")
    assert "Strava could not find 1 of the shoes on your recent runs" in flat(text_of(msg))


def test_history_too_short_is_said_once_and_its_factors_are_not_called_fine(smtp, smtp_server):
    runner(smtp, 1)
    for rule_id in ("distance.weekly_change", "distance.monotony", "injury.return_after_break"):
        smtp.waits_for_history(1, rule_id, 28, 14, ready_from=dt.date(2026, 11, 30))
    msg = one_message(smtp, smtp_server)

    text, html = flat(text_of(msg)), flat(html_of(msg))
    sentence = (
        "Some checks need 4 weeks of history: the ones for same load every day, big change in weekly distance and return "
        "after a break; they start from 30 November 2026"
    )
    assert text.count("Some checks need") == 1 and sentence in text
    assert html.count("Some checks need") == 1 and sentence in html
    marks = Marked(html_of(msg))
    assert marks.values("data-note") == ["history"]
    assert marks.values("data-factor-unjudged") == ["injury", "distance"]
    assert msg["Subject"] == "Week of 16 Nov: some checks wait for more history"


def test_checks_with_different_history_needs_are_still_said_in_one_note(smtp, smtp_server):
    """Without the mart's ready_from, a rule starts in the first week whose history reaches its need."""
    runner(smtp, 1)
    smtp.waits_for_history(1, "distance.single_run_spike", 37, 10)  # 27 days short: four weeks on
    smtp.waits_for_history(1, "distance.weekly_change", 35, 24)  # 11 days short: two weeks on
    msg = one_message(smtp, smtp_server)

    text, html = flat(text_of(msg)), flat(html_of(msg))
    assert text.count("Some checks need") == 1 and html.count("Some checks need") == 1
    assert (
        "Some checks need 5 weeks of history: the one for big change in weekly distance; they start from 30 November 2026"
        in html
    )
    assert "The check for long-run spike needs 37 days; from 14 December 2026." in html


def test_a_week_without_runs_but_with_missing_data_never_says_no_runs_were_logged(smtp, smtp_server):
    smtp.athlete(1)
    smtp.sync(1)
    smtp.quarantined(1, 61, "2026-11-20T07:30:00")  # the week's only run was held back
    msg = one_message(smtp, smtp_server)

    text, html = flat(text_of(msg)), flat(html_of(msg))
    assert msg["Subject"] == "Week of 16 Nov: some data still missing"
    assert "No runs of this week could be counted, but backstride could not see all of your data" in text
    for all_clear in ALL_CLEARS:
        assert all_clear not in text and all_clear not in html
    assert Marked(html_of(msg)).values("data-factor-fine") == []


def test_the_report_sums_up_what_a_sent_digest_could_not_see(smtp, smtp_server):
    runner(smtp, 1)
    smtp.run(1, 71, "2026-11-17T07:00:00")
    smtp.pending(1, 71, "streams")
    report = send_digests(smtp.save(), week=WEEK)

    line = str(report.by_athlete()[1])
    assert line.startswith("athlete 1 week 2026-11-16: sent")
    assert "[incomplete data: pending streams: 1; not judged: posture]" in line


def test_a_record_too_broken_to_read_leaves_every_factor_unjudged(smtp, smtp_server):
    runner(smtp, 1)
    smtp.quarantined(1, 91, "2026-11-19T07:00:00", table="landing")  # e.g. a summary with an unusable id
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-gap") == ["quarantine_other"]
    assert marks.values("data-factor-fine") == []
    assert "1 other record of yours had values backstride could not check" in flat(text_of(msg))


def test_an_unreadable_streams_body_leaves_only_posture_unjudged(smtp, smtp_server):
    runner(smtp, 1)
    smtp.run(1, 92, "2026-11-19T07:00:00")
    smtp.quarantined(1, 92, None, table="landing", endpoint="streams")  # the run counts; its streams did not read
    msg = one_message(smtp, smtp_server)

    marks = Marked(html_of(msg))
    assert marks.values("data-gap") == ["quarantine_streams"]
    assert marks.values("data-factor-unjudged") == ["posture"]
