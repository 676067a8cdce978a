"""The bug as found: a sync that failed, then `digest`. Real stub over HTTP, real sync, build and outbox."""

from __future__ import annotations

from sync_support import register_all, settings_for

from pipeline.build import run_build
from pipeline.digest import send_digests
from pipeline.sync import sync_all
from tests.lake_support import open_lake


def outbox_files(settings) -> list[str]:
    return sorted(p.name for p in settings.outbox_dir.glob("*/*.eml"))


def test_a_failed_sync_gets_no_all_clear_and_the_next_good_sync_sends_once(tmp_path, start_stub, small_world):
    server = start_stub(small_world)
    settings = settings_for(tmp_path / "home", server, lookback_weeks=2)
    [athlete_id] = register_all(settings, small_world)
    run_build(settings)
    never_synced = send_digests(settings).by_athlete()[athlete_id]
    server.inject("status", status=500, count=None, path="/athlete/activities")  # the listing never answers
    [failed] = sync_all(settings)
    run_build(settings)

    held = send_digests(settings).by_athlete()[athlete_id]

    assert never_synced.status == "held" and "not synced yet" in never_synced.reason
    assert failed.status in ("deferred", "error")
    assert held.status == "held" and "last sync" in held.reason
    assert outbox_files(settings) == []  # no "no runs logged" email

    server.clear_faults()
    [synced] = sync_all(settings)
    run_build(settings)
    sent = send_digests(settings).by_athlete()[athlete_id]
    again = send_digests(settings).by_athlete()[athlete_id]

    assert synced.status == "ok"
    assert sent.status == "sent" and again.status == "skipped_already_sent"
    assert outbox_files(settings) == [f"{athlete_id}.eml"]
    con = open_lake(settings, read_only=True)
    try:
        assert con.execute("select count(*) from digest_log where status = 'sent'").fetchone()[0] == 1
    finally:
        con.close()
