"""The email's figures come from the athlete's effective rule parameters, not from copy.

The whole path runs for real: the Strava stub on 127.0.0.1, registration, sync, build with
the athlete's override (`pipeline.thresholds.save_override`, what `backstride thresholds set`
calls), then the digest to the outbox.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

from sync_support import register_all, settings_for

from pipeline.build import run_build
from pipeline.digest import send_digests
from pipeline.strava_stub.demo_data import synthetic_world
from pipeline.sync import sync_all
from pipeline.thresholds import save_override
from tests.lake_support import open_lake


def _parts(path: str) -> tuple[str, str]:
    with open(path, "rb") as handle:
        message = message_from_bytes(handle.read(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return " ".join(text.split()), html


def test_an_overridden_cadence_suggestion_changes_the_flag_and_the_email_for_that_athlete_only(tmp_path, start_stub):
    world = synthetic_world(2, 40)
    server = start_stub(world)
    settings = settings_for(tmp_path / "home", server, lookback_weeks=2)
    overridden, default = register_all(settings, world)
    sync_all(settings)
    for athlete_id in (overridden, default):  # every realistic runner is below 300 steps/min
        save_override(settings, athlete_id, "posture.cadence", "watch_spm", 299)
    save_override(settings, overridden, "posture.cadence", "suggest_low", 0.03)
    save_override(settings, overridden, "posture.cadence", "suggest_high", 0.06)
    run_build(settings)

    con = open_lake(settings, read_only=True)
    try:
        messages = dict(
            con.execute(
                "select athlete_id, any_value(message) from risk_flags where rule_id = 'posture.cadence' "
                "group by athlete_id"
            ).fetchall()
        )
    finally:
        con.close()
    report = send_digests(settings).by_athlete()

    assert "raising cadence by 3-6%" in messages[overridden] and "5-10%" not in messages[overridden]
    assert "raising cadence by 5-10%" in messages[default] and "3-6%" not in messages[default]
    mine, theirs = report[overridden], report[default]
    assert mine.status == "sent" and theirs.status == "sent"
    text, html = _parts(mine.path)
    assert "raising cadence by 3-6%" in text and "raising cadence by 3-6%" in html
    assert "5-10%" not in text and "5-10%" not in html
    text, html = _parts(theirs.path)
    assert "raising cadence by 5-10%" in text and "raising cadence by 5-10%" in html
    assert "3-6%" not in text and "3-6%" not in html
