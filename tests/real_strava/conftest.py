"""The whole pipeline over real recorded Strava responses (../shared/real-strava/).

The recordings are read where they are, never copied into the project. Where the folder is
absent every test here is skipped with a message saying where it was looked for.

One unthrottled run of the whole pipeline (register, sync, build, digest) is shared by the
tests that only read its warehouse (`recorded_run`, session-scoped); the quota and hostile
tests make their own worlds.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("SILENCE_TOKEN_WARNINGS", "true")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from real_strava_support import CORPUS_DIR  # noqa: E402

SKIP_REASON = (
    f"real Strava recordings not found at {CORPUS_DIR} (../shared/real-strava from the project root); "
    "tests/real_strava needs them"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CORPUS_DIR.is_dir():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if Path(str(item.path)).resolve().is_relative_to(HERE):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def corpus():
    from pipeline.strava_stub.recorded import CorpusMissing, load_corpus

    try:
        return load_corpus(CORPUS_DIR)
    except CorpusMissing as err:
        pytest.skip(f"{SKIP_REASON}: {err}")


@pytest.fixture(scope="session")
def now() -> datetime:
    """One "now" for every world of the session, so their re-dated copies are identical."""
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Run:
    """One whole-pipeline run over a recorded world."""

    settings: object
    world: object
    server: object
    registered: tuple[int, str]
    syncs: list
    build: object
    digest: object


@pytest.fixture(scope="session")
def recorded_run(tmp_path_factory: pytest.TempPathFactory, corpus, now) -> Iterator[Run]:
    """Register the recorded athlete, sync (limits far above need), build, digest to the outbox."""
    from real_strava_support import register, start_world
    from sync_support import settings_for

    from pipeline.build import run_build
    from pipeline.digest import send_digests
    from pipeline.sync.run import sync_all

    world, server = start_world(corpus, now, short_limit=100_000, daily_limit=1_000_000)
    try:
        settings = settings_for(tmp_path_factory.mktemp("recorded"), server)
        registered = register(settings, world)
        syncs = [sync_all(settings)]
        build = run_build(settings)
        digest = send_digests(settings)
        yield Run(settings, world, server, registered, syncs, build, digest)
        assert server.internal_errors == [], server.internal_errors[0]
    finally:
        server.stop()
