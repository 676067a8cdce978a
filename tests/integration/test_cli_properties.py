"""Property-based tests of the command line (hypothesis): whatever the arguments, each command
exits 0 or with a clean non-zero code, never with a traceback, and never prints a secret.

Commands run in-process with typer's CliRunner against a real home (a DuckDB warehouse with a
registered athlete) and the bundled Strava-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.config import ConfigError, check_base_url
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, World, synthetic_world
from pipeline.strava_stub.server import StubServer

VERIFY = "verify-me-secretly"
HOSTILE = [
    "[red]",
    "[/]",
    "[/red]",
    "[bold]x[/bold]",
    "\x1b[31m",
    "\r\nBcc: x@example.com",
    "'; drop table athletes; --",
    "{{ 7*7 }}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%n",
    "\u202e",
    "🏃",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-0",
    " ",
    "",
]
text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.text(alphabet=string.printable, max_size=30))
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    text,
)


@pytest.fixture(scope="module")
def world() -> World:
    return synthetic_world(1, 5)


@pytest.fixture(scope="module")
def home_env(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[dict[str, str]]:
    """A home with one athlete registered through the stub, which keeps running for the tests."""
    server = StubServer(world)
    server.start()
    env = {
        "BACKSTRIDE_HOME": str(tmp_path_factory.mktemp("cli-properties") / "home"),
        "STRAVA_BASE_URL": server.base_url,
        "STRAVA_CLIENT_ID": str(DEMO_CLIENT_ID),
        "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "STRAVA_VERIFY_TOKEN": VERIFY,
        "BACKSTRIDE_LOOKBACK_WEEKS": "1",
        "GX_ANALYTICS_ENABLED": "false",
    }
    athlete = next(iter(world.athletes.values()))
    added = CliRunner().invoke(
        app, ["athletes", "add", "--refresh-token", athlete.refresh_token, "--email", athlete.email], env=env
    )
    assert added.exit_code == 0, added.output
    try:
        yield env
    finally:
        server.stop()


def secrets(env: dict[str, str], world: World) -> list[str]:
    found = [DEMO_CLIENT_SECRET, VERIFY] + [a.refresh_token for a in world.athletes.values()]
    for path in (Path(env["BACKSTRIDE_HOME"]) / "secrets" / "tokens").glob("*.json"):
        data = json.loads(path.read_text())
        found += [data["access_token"], data["refresh_token"]]
    return [s for s in found if s]


def assert_clean(result: Result, env: dict[str, str], world: World) -> None:
    """Exit 0, or a non-zero exit with a message: never an exception escaping, never a secret."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        assert result.output.strip(), "a failure must say why"
    for secret in secrets(env, world):
        assert secret not in result.output


def athlete_ids(world: World) -> st.SearchStrategy[str]:
    known = [str(a) for a in world.athletes]
    return st.one_of(st.sampled_from(known), numbers, st.integers(min_value=1, max_value=2**63 - 1).map(str))


def commands(world: World) -> st.SearchStrategy[list[str]]:
    ids = athlete_ids(world)
    rules = st.one_of(st.sampled_from(["shoes.mileage", "shoes.unknown_gear", "distance.single_run_spike"]), text)
    params = st.one_of(st.sampled_from(["warning_km", "share_info", "watch_ratio", "lookback_days"]), text)
    weeks = st.one_of(
        text, st.dates().map(lambda d: d.isoformat()), st.sampled_from(["2026-11-16", "2026-11-17", "0001-01-01"])
    )
    return st.one_of(
        st.tuples(st.just("athletes"), st.just("remove"), ids),
        st.tuples(st.just("athletes"), st.just("set"), ids, st.just("--digest"), st.sampled_from(["on", "off"]) | text),
        st.just(("athletes", "list")),
        st.tuples(st.just("thresholds"), st.just("set"), ids, rules, params, numbers),
        st.tuples(st.just("thresholds"), st.just("unset"), ids, rules, params),
        st.tuples(st.just("thresholds"), st.just("list"), st.just("--athlete"), ids),
        st.tuples(st.just("digest"), st.just("--week"), weeks, st.just("--athlete"), ids),
        st.tuples(st.just("sql"), text | st.sampled_from(["select 1", "select * from athletes", "drop table x"])),
        st.tuples(st.just("sql"), st.just("select 1"), st.just("--format"), text),
        st.tuples(st.just("validate"), st.just("--runs"), numbers),
        st.tuples(st.just("sync"), st.just("--athlete"), ids),
        st.tuples(st.just("auth"), st.just("url"), st.just("--redirect-uri"), text),
        st.tuples(
            st.just("athletes"), st.just("add"), st.just("--refresh-token"), text, st.just("--email"), text,
            st.just("--timezone"), text | st.sampled_from(["UTC", "Europe/London"]),
        ),
        st.tuples(st.just("auth"), st.just("exchange"), text, st.just("--email"), text),
        st.tuples(st.just("webhook"), st.just("unsubscribe"), ids),
        st.tuples(st.just("run"), st.just("--week"), text),
        st.tuples(st.just("strava-stub"), st.just("--today"), text, st.just("--port"), st.just("-1")),
    ).map(list)  # fmt: skip


def test_any_arguments_exit_cleanly_without_a_traceback_or_a_secret(home_env: dict[str, str], world: World) -> None:
    # The strategy needs the world's athlete ids, so the property is built inside the test.
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(args=commands(world))
    def check(args: list[str]) -> None:
        result = CliRunner().invoke(app, args, env=home_env)
        assert_clean(result, home_env, world)

    check()


@settings(max_examples=150, deadline=None)
@given(value=st.one_of(st.text(max_size=40), st.from_regex(r"\A(https?|ftp)://[^/]{0,12}(:\d{0,6})?(/.{0,8})?\Z")))
def test_any_strava_base_url_is_accepted_as_an_http_origin_or_refused_naming_the_variable(value: str) -> None:
    from urllib.parse import urlsplit

    try:
        checked = check_base_url(value)
    except ConfigError as e:
        assert "STRAVA_BASE_URL" in str(e)
        assert "\n" not in str(e)
        return
    parts = urlsplit(checked)
    assert parts.scheme in ("http", "https") and parts.hostname
    assert not any(c.isspace() for c in checked)
    assert not checked.endswith("/")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base_url=st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30),
    lookback=st.one_of(st.none(), text),
    client_id=st.one_of(st.none(), numbers),
)
def test_any_environment_gives_a_clean_exit(tmp_path_factory, base_url, lookback, client_id) -> None:
    env = {
        "BACKSTRIDE_HOME": str(tmp_path_factory.mktemp("env") / "home"),
        "STRAVA_BASE_URL": base_url,
        "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "GX_ANALYTICS_ENABLED": "false",
    }
    for name, value in (("BACKSTRIDE_LOOKBACK_WEEKS", lookback), ("STRAVA_CLIENT_ID", client_id)):
        if value is not None and "\x00" not in value:
            env[name] = value
    result = CliRunner().invoke(app, ["auth", "url"], env=env)  # reads every variable, reaches no server
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and DEMO_CLIENT_SECRET not in result.output
    if result.exit_code:
        assert result.exit_code == 1 and result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
