"""The weekly digest run sends the last whole week and reports who got nothing yet, and why."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from pipeline.weekly import last_complete_week, week_outcome


def test_a_monday_run_sends_the_week_that_ended_the_night_before() -> None:
    assert last_complete_week(date(2026, 11, 30)) == date(2026, 11, 23)


def test_a_run_later_in_the_week_still_sends_the_last_whole_week() -> None:
    assert last_complete_week(date(2026, 12, 6)) == date(2026, 11, 23)


def test_the_outcome_counts_each_status_and_names_the_waiting_then_the_held() -> None:
    results = [
        SimpleNamespace(status="sent", athlete_id=1, reason=""),
        SimpleNamespace(status="held", athlete_id=2, reason="last sync failed"),
    ]

    outcome = week_outcome(results, waiting=[3])

    assert outcome.counts == {"sent": 1, "skipped_already_sent": 0, "held": 1, "failed": 0, "waiting_for_sync": 1}
    assert outcome.problems == [
        "athletes [3] have not been synced since their week ended",
        "athlete 2: last sync failed",
    ]


def test_a_week_with_every_digest_sent_has_no_problems() -> None:
    outcome = week_outcome([SimpleNamespace(status="sent", athlete_id=1, reason="")], waiting=[])

    assert outcome.problems == []
