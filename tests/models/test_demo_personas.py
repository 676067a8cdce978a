"""The demo athletes' flags match what each persona was built to show, factor by factor.

The whole path runs for real: the local Strava-compatible server on 127.0.0.1, registration,
sync through stravalib, ingestion with validation, then the models.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings

FACTORS = ("shoes", "posture", "surface", "distance", "preparation", "strength", "injury")
PERSONAS = ("steady", "spiker", "fader", "niggle")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict[str, set[str]], Settings]]:
    from pipeline.build import run_build
    from pipeline.digest import last_complete_week
    from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, build_world
    from pipeline.strava_stub.server import StubServer
    from pipeline.sync import register_athlete, sync_all
    from pipeline.warehouse import connect_reader

    home = Path(tmp_path_factory.mktemp("demo"))
    world = build_world()
    with StubServer(world, short_limit=2000, daily_limit=20000) as server:
        settings = dataclasses.replace(
            Settings(home=home),
            strava_base_url=server.base_url,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
        )
        for athlete in world.athletes.values():
            register_athlete(settings, athlete.refresh_token, athlete.email, athlete.timezone)
        sync_all(settings)
    run_build(settings)
    fired: dict[str, set[str]] = {}
    con = connect_reader(settings)
    try:
        for athlete in world.athletes.values():
            week = last_complete_week(athlete.timezone)
            rows = con.execute(
                "select rule_id from risk_flags where athlete_id = ? and week_start = ?", [athlete.athlete_id, week]
            ).fetchall()
            fired[athlete.persona] = {r[0] for r in rows}
        steady_id = next(a.athlete_id for a in world.athletes.values() if a.persona == "steady")
        steady_concerns = con.execute(
            "select week_start, rule_id, severity from risk_flags where athlete_id = ? and severity <> 'info'",
            [steady_id],
        ).fetchall()
        messages = con.execute(
            "select rule_id, count(*) filter (where coalesce(trim(message), '') = '') from risk_flags group by rule_id"
        ).fetchall()
    finally:
        con.close()
    personas = {a.persona: a for a in world.athletes.values()}
    yield personas, fired, steady_concerns, dict(messages)


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("persona", PERSONAS)
def test_persona_flags_match_what_it_was_built_to_show(demo: tuple, persona: str, factor: str) -> None:
    personas, fired, _, _ = demo
    expected = {r for r in personas[persona].expected["rules"] if r.startswith(factor + ".")}
    got = {r for r in fired[persona] if r.startswith(factor + ".")}
    assert got == expected


def test_the_steady_demo_runner_has_no_watch_or_warning_in_any_week(demo: tuple) -> None:
    _, _, steady_concerns, _ = demo
    assert steady_concerns == []


def test_every_flag_the_models_raise_carries_its_own_message_and_a_label_in_the_digest(demo: tuple) -> None:
    """The message (with the athlete's own numbers) is the one source of a flag's reasons."""
    from pipeline.digest.wording import RULE_LABELS

    _, _, _, empty_messages = demo
    assert len(empty_messages) >= 10  # the demo world raises most rules in some week
    assert {rule: n for rule, n in empty_messages.items() if n} == {}
    assert sorted(set(empty_messages) - set(RULE_LABELS)) == []
