"""The demo world is a pure function of (today, seed): its bytes are pinned.

A refactor of pipeline/strava_stub/demo_data must leave every athlete, activity, gear body and
stream exactly as it was (key order included, as the stub serves them). If the demo world is
changed on purpose, update the digests here in the same commit and say why.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

import pytest

from pipeline.strava_stub import World, build_world, synthetic_world


def _world_bytes(world: World) -> bytes:
    """Everything the stub would serve of `world`, in the order it serves it."""
    out: list[Any] = [str(world.today), world.seed, sorted(world.cadence_profiles.items())]
    for athlete in world.athletes.values():
        out.append(
            {
                "athlete_id": athlete.athlete_id,
                "persona": athlete.persona,
                "email": athlete.email,
                "timezone": athlete.timezone,
                "tokens": [athlete.refresh_token, athlete.auth_code],
                "profile": athlete.profile,
                "summary": athlete.summary,
                "gear": athlete.gear,
                "activities": athlete.activities,
                "expected": {k: sorted(v) for k, v in athlete.expected.items()},
                "bad_records": athlete.bad_records,
                "today": str(athlete.today),
                "streams": [world.streams_of(a, None) for a in athlete.activities[-15:]],
            }
        )
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 12, 2), "e4708d2afccb4c7ec006d27808b476305fa615ea3832247d2993a61eac2bb8e5"),
        (date(2026, 3, 30), "7424fadeb5d5a5ad7fdb8ac9e4341934f1c067b8fe88e58d5017b5cc27ddb6f2"),
    ],
)
def test_the_demo_world_for_a_date_is_byte_for_byte_the_same(today: date, expected: str) -> None:
    assert hashlib.sha256(_world_bytes(build_world(today))).hexdigest() == expected


def test_a_synthetic_world_for_a_date_and_seed_is_byte_for_byte_the_same() -> None:
    world = synthetic_world(2, 60, today=date(2026, 12, 2), seed=11)
    assert (
        hashlib.sha256(_world_bytes(world)).hexdigest()
        == "994208a46aec47b36229ee593851c418715d4fbeb1bd7094412ecdc688afafbc"
    )
