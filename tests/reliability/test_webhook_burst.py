"""1,000 events in a burst plus 100 redeliveries: all answered, each processed exactly once."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from pipeline.config import load_settings
from pipeline.warehouse import writer
from pipeline.webhooks import WEBHOOK_PATH, SyncActions, create_app, process_inbox, save_subscription_id

SUBSCRIPTION = 777


def test_burst_with_duplicates_is_processed_once_per_event(tmp_path, record):
    s = load_settings({"BACKSTRIDE_HOME": str(tmp_path), "STRAVA_VERIFY_TOKEN": "t"})
    save_subscription_id(s, SUBSCRIPTION)
    with writer(s) as con:
        con.execute("insert into athletes (athlete_id, email) values (42, 'a@example.com')")
    fetched: Counter[int] = Counter()
    actions = SyncActions(
        fetch_activity=lambda _s, _athlete, activity: fetched.update([activity]),
        delete_activity=lambda *_: None,
        remove_athlete=lambda *_: None,
    )
    events = [
        {
            "object_type": "activity",
            "object_id": 10_000 + i,
            "aspect_type": "create",
            "owner_id": 42,
            "subscription_id": SUBSCRIPTION,
            "event_time": 1_760_000_000 + i,
            "updates": {},
        }
        for i in range(1000)
    ]
    redelivered = events[::10]  # Strava retries: the same 100 events again

    client = TestClient(create_app(s, env={}))
    statuses = Counter(client.post(WEBHOOK_PATH, json=e).status_code for e in events + redelivered)
    report = process_inbox(s, actions)
    process_inbox(s, actions)  # a second run finds nothing new

    assert statuses == Counter({200: 1100})
    assert len(fetched) == 1000
    assert set(fetched.values()) == {1}
    assert report.duplicates == 100
    record.update(events=1000, duplicates=100, processed_twice=0, lost=0)
