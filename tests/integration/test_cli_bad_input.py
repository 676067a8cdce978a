"""Bad input at the command line gets one clear line and a non-zero exit, never a traceback.

Found by trying each command as a new user would: `athletes list` before the first sync and
a malformed `STRAVA_BASE_URL` printed Python tracebacks, `athletes remove` of an unknown id
reported success. Each class of bad input is here, for every command it reaches: non-existent
and out-of-range ids, bad `--week` dates, bad formats, empty strings, hostile text, unknown
names, and a `BACKSTRIDE_HOME` that is missing, a file or unreadable. Most run in-process
(typer's CliRunner); the ones a user meets first run as a subprocess, as a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from cli_support import BIN
from typer.testing import CliRunner, Result

from pipeline.cli import app
from pipeline.config import load_settings
from pipeline.strava_stub.demo_data import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, synthetic_world
from pipeline.warehouse import writer
from tests.lake_support import open_lake

CLOSED = "http://127.0.0.1:9"  # nothing listens: a command that reached Strava would fail differently


def env_for(home: Path, base_url: str = CLOSED, **extra: str) -> dict[str, str]:
    return {
        "BACKSTRIDE_HOME": str(home),
        "STRAVA_BASE_URL": base_url,
        "STRAVA_CLIENT_ID": str(DEMO_CLIENT_ID),
        "STRAVA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "STRAVA_VERIFY_TOKEN": "verify-me",
        "GX_ANALYTICS_ENABLED": "false",
        **extra,
    }


def invoke(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_clean_failure(result: Result, says: str, code: int | None = None) -> None:
    """Non-zero exit, no traceback, and exactly one line on stderr that contains `says`."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code != 0, result.output
    if code is not None:
        assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = error_lines(result)
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and says in lines[0], lines[0]
    assert DEMO_CLIENT_SECRET not in result.output


def assert_usage_error(result: Result) -> None:
    """Refused by the argument parser (exit 2) with its usage message, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert any(says in result.output for says in ("Invalid value", "No such option", "Missing", "requires an argument"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def warehouse_home(home: Path) -> Path:
    """A home with a warehouse and no athlete (what `thresholds set` before any sync leaves)."""
    with writer(load_settings({"BACKSTRIDE_HOME": str(home)})):
        pass
    return home


# --- athletes list before the first sync --------------------------------------------------


def test_athletes_list_on_a_new_home_says_no_athletes_yet_and_exits_0(home: Path) -> None:
    done = subprocess.run(
        [str(BIN), "athletes", "list"], env={**os.environ, **env_for(home)}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "no athletes yet" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert not home.exists()  # listing creates nothing


def test_athletes_list_with_a_warehouse_but_no_athlete_says_no_athletes_yet(warehouse_home: Path) -> None:
    result = invoke(env_for(warehouse_home), "athletes", "list")
    assert result.exit_code == 0, result.output
    assert "no athletes yet" in result.stdout


# --- a malformed STRAVA_BASE_URL ----------------------------------------------------------

BAD_BASE_URLS = [
    "not a url",
    "ftp://x",
    "http://",
    "http://a b",
    " https://www.strava.com",
    "https://www.strava.com\n",
    "www.strava.com",
    "://www.strava.com",
    "https://www.strava.com/?x=1",
    "https://www.strava.com/#top",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:port",
    "http://[::1",
    "http://user:password@www.strava.com",
    "javascript:alert(1)",
]

# Every command that reaches Strava, with arguments that are otherwise fine.
STRAVA_COMMANDS = [
    ["auth", "url"],
    ["auth", "exchange", "some-code", "--email", "runner@example.com"],
    ["athletes", "add", "--refresh-token", "some-token", "--email", "runner@example.com"],
    ["sync"],
    ["run"],
    ["webhook", "subscribe", "--callback-url", "https://example.com/webhook"],
    ["webhook", "list"],
    ["webhook", "unsubscribe", "1"],
    ["webhook", "process"],
]


@pytest.mark.parametrize("base_url", BAD_BASE_URLS)
@pytest.mark.parametrize("command", STRAVA_COMMANDS, ids=" ".join)
def test_a_malformed_strava_base_url_gives_one_line_naming_the_variable(
    home: Path, command: list[str], base_url: str
) -> None:
    result = invoke(env_for(home, base_url), *command)
    assert_clean_failure(result, "STRAVA_BASE_URL", code=1)
    assert "password" not in result.output or "user name or password" in result.output


def test_a_malformed_strava_base_url_in_a_subprocess_is_one_line_not_a_traceback(home: Path) -> None:
    for base_url in ("not a url", "ftp://x", "http://"):
        done = subprocess.run(
            [str(BIN), "auth", "url"], env={**os.environ, **env_for(home, base_url)}, capture_output=True, text=True
        )
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and "STRAVA_BASE_URL" in done.stderr, done.stderr


@pytest.mark.parametrize(
    "base_url",
    ["https://www.strava.com", "https://www.strava.com/", "http://127.0.0.1:8710", "http://[::1]:8710", "http://h/x"],
)
def test_a_well_formed_strava_base_url_is_accepted(home: Path, base_url: str) -> None:
    result = invoke(env_for(home, base_url), "auth", "url")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(base_url.rstrip("/") + "/oauth/authorize?")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STRAVA_CLIENT_ID", "abc"),
        ("STRAVA_CLIENT_ID", "-5"),
        ("STRAVA_CLIENT_ID", "9" * 30),
        ("BACKSTRIDE_LOOKBACK_WEEKS", "twelve"),
        ("BACKSTRIDE_LOOKBACK_WEEKS", "0"),
        ("BACKSTRIDE_LOOKBACK_WEEKS", "100000"),
    ],
)
def test_other_malformed_variables_are_named_too(home: Path, variable: str, value: str) -> None:
    result = invoke(env_for(home, **{variable: value}), "sync")
    assert_clean_failure(result, variable, code=1)


# --- athletes remove of an unknown id --------------------------------------------------------


def test_removing_an_unknown_athlete_says_so_and_still_deletes_stray_rows_and_files(tmp_path: Path, start_stub) -> None:
    world = synthetic_world(1, 3)
    athlete = next(iter(world.athletes.values()))
    server = start_stub(world)
    home = tmp_path / "home"
    env = env_for(home, server.base_url)
    added = invoke(env, "athletes", "add", "--refresh-token", athlete.refresh_token, "--email", athlete.email)
    assert added.exit_code == 0, added.output
    stray = 555
    with writer(load_settings(env)) as con:  # what a crashed removal could leave behind
        con.execute("insert into sync_state (athlete_id, last_status) values (?, 'ok')", [stray])
    outbox = home / "outbox" / "2026-11-16"
    outbox.mkdir(parents=True)
    (outbox / f"{stray}.eml").write_text("stray")

    first = invoke(env, "athletes", "remove", str(stray))
    again = invoke(env, "athletes", "remove", str(stray))
    other = invoke(env, "athletes", "remove", "556")

    assert_clean_failure(first, f"athlete {stray} is not registered", code=1)
    assert "1 rows" in first.stderr and "1 outbox files" in first.stderr
    assert not (outbox / f"{stray}.eml").exists()
    con = open_lake(home, read_only=True)
    try:
        assert con.execute("select count(*) from sync_state where athlete_id = ?", [stray]).fetchone() == (0,)
        assert con.execute("select count(*) from athletes where athlete_id = ?", [athlete.athlete_id]).fetchone() == (
            1,
        )
    finally:
        con.close()
    assert_clean_failure(again, f"athlete {stray} is not registered", code=1)
    assert "left" not in again.stderr  # nothing stray the second time
    assert_clean_failure(other, "athlete 556 is not registered", code=1)

    removed = invoke(env, "athletes", "remove", str(athlete.athlete_id))
    assert removed.exit_code == 0, removed.output
    assert f"removed athlete {athlete.athlete_id}" in removed.stdout
    assert_clean_failure(invoke(env, "athletes", "remove", str(athlete.athlete_id)), "not registered", code=1)


def test_removing_an_athlete_whose_registration_stopped_after_saving_tokens_succeeds(warehouse_home: Path) -> None:
    tokens = warehouse_home / "secrets" / "tokens"
    tokens.mkdir(parents=True)
    (tokens / "77.json").write_text('{"refresh_token": "r", "access_token": "a", "expires_at": 0}')
    result = invoke(env_for(warehouse_home), "athletes", "remove", "77")
    assert result.exit_code == 0, result.output
    assert "1 token file" in result.stdout
    assert not (tokens / "77.json").exists()


# --- ids: out of range, not numbers, unknown ----------------------------------------------------

ID_COMMANDS = [
    ["athletes", "remove", "{id}"],
    ["athletes", "set", "{id}", "--digest", "on"],
    ["sync", "--athlete", "{id}"],
    ["digest", "--athlete", "{id}"],
    ["thresholds", "list", "--athlete", "{id}"],
    ["thresholds", "set", "{id}", "shoes.mileage", "warning_km", "700"],
    ["thresholds", "unset", "{id}", "shoes.mileage", "warning_km"],
    ["webhook", "unsubscribe", "{id}"],
]


@pytest.mark.parametrize("bad_id", ["0", "-1", str(2**63), "9" * 40, "abc", "", "1.5", "1e3", "0x10", "7;"])
@pytest.mark.parametrize("command", ID_COMMANDS, ids=" ".join)
def test_an_id_that_cannot_be_a_strava_id_is_a_usage_error(home: Path, command: list[str], bad_id: str) -> None:
    result = invoke(env_for(home), *[bad_id if part == "{id}" else part for part in command])
    assert_usage_error(result)
    assert not (home / "catalog.sqlite").exists() and not (home / "warehouse.duckdb").exists()


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["athletes", "set", "424242", "--digest", "off"], "424242"),
        (["sync", "--athlete", "424242"], "424242"),
        (["digest", "--athlete", "424242"], "424242"),
        (["thresholds", "unset", "424242", "shoes.mileage", "warning_km"], "no override"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_an_unknown_athlete_id_is_named_in_one_line(warehouse_home: Path, command: list[str], says: str) -> None:
    if command[0] == "digest":
        assert invoke(env_for(warehouse_home), "build").exit_code == 0
    assert_clean_failure(invoke(env_for(warehouse_home), *command), says)


# --- dates ----------------------------------------------------------------------------------

BAD_WEEKS = [
    "2026-13-01",
    "2026-11-17",  # a Tuesday
    "",
    "0001-01-01",  # a Monday, but long before Strava
    "9999-12-27",  # a Monday in the future
    "20261116",
    "2026-W47-1",
    "2026-11-16T00:00",
    "'; drop table athletes; --",
    "[red]2026-11-16[/red]",
    "2026-11-16\n",
    "next monday",
]


@pytest.mark.parametrize("week", BAD_WEEKS)
@pytest.mark.parametrize("command", ["digest", "run"])
def test_a_bad_week_is_refused_before_anything_runs(warehouse_home: Path, command: str, week: str) -> None:
    result = invoke(env_for(warehouse_home), command, "--week", week)
    assert_clean_failure(result, "--week", code=1)
    assert result.stdout == ""  # `run` did not sync or build first


def test_a_bad_today_for_the_stub_is_refused(home: Path) -> None:
    assert_clean_failure(invoke(env_for(home), "strava-stub", "--today", "2026-02-30", "--port", "0"), "--today")


# --- formats, empty strings, hostile text ---------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["athletes", "add", "--refresh-token", "", "--email", "a@example.com"], "--refresh-token must not be empty"),
        (["athletes", "add", "--refresh-token", "a b", "--email", "a@example.com"], "--refresh-token"),
        (["athletes", "add", "--refresh-token", "t", "--email", ""], "--email"),
        (["athletes", "add", "--refresh-token", "t", "--email", "not an address"], "--email"),
        (["athletes", "add", "--refresh-token", "t", "--email", "a@example.com\r\nBcc: b@example.com"], "--email"),
        (["athletes", "add", "--refresh-token", "t", "--email", "Runner <a@example.com>"], "--email"),
        (["athletes", "add", "--refresh-token", "t", "--email", "a@@example.com"], "--email"),
        (["athletes", "add", "--refresh-token", "t", "--email", "a@example.com", "--timezone", "Mars/Base"], "IANA"),
        (["athletes", "add", "--refresh-token", "t", "--email", "a@example.com", "--timezone", ""], "IANA"),
        (["athletes", "add", "--refresh-token", "t", "--email", "a@example.com", "--timezone", "../etc/x"], "IANA"),
        (["athletes", "add", "--refresh-token", "t", "--email", "a@example.com", "--timezone", "Europe"], "IANA"),
        (["auth", "exchange", "", "--email", "a@example.com"], "CODE must not be empty"),
        (["auth", "exchange", "c", "--email", "nobody"], "--email"),
        (["auth", "url", "--redirect-uri", ""], "--redirect-uri"),
        (["auth", "url", "--redirect-uri", "javascript:alert(1)"], "--redirect-uri"),
        (["auth", "url", "--redirect-uri", "http://"], "--redirect-uri"),
        (["webhook", "subscribe", "--callback-url", "not a url"], "--callback-url"),
        (["webhook", "subscribe", "--callback-url", ""], "--callback-url"),
        (["webhook", "serve", "--host", ""], "--host"),
        (["athletes", "set", "1"], "--digest"),
        (["athletes", "set", "1", "--digest", "maybe"], "--digest must be on or off"),
        (["athletes", "set", "1", "--digest", "[/red]"], "[/red]"),
        (["sql", "select 1", "--format", "xml"], "--format"),
        (["sql", ""], "empty"),
        (["sql", "   ;  "], "query"),
        (["sql", "select 1; select 2"], "one statement"),
        (["sql", "drop table athletes"], "read-only"),
        (["sql", "select * from [bold]nope[/bold]"], "[bold]"),
        (["sql", "select * from no_such_table"], "no_such_table"),
        (["sql", "select 1/0::integer + 'x'"], "error"),
        (["thresholds", "set", "1", "nope", "x", "1"], "unknown rule 'nope'"),
        (["thresholds", "set", "1", "[/]", "x", "1"], "unknown rule '[/]'"),
        (["thresholds", "set", "1", "", "", "1"], "unknown rule ''"),
        (["thresholds", "set", "1", "shoes.mileage", "warnin_km", "1"], "warning_km, watch_km"),
        (["thresholds", "unset", "1", "nope", "x"], "unknown rule 'nope'"),
        (["thresholds", "unset", "1", "shoes.mileage", "\x1b[31mred"], "unknown parameter"),
    ],
    ids=lambda v: " ".join(map(repr, v)) if isinstance(v, list) else None,
)
def test_bad_values_are_named_in_one_line(warehouse_home: Path, command: list[str], says: str) -> None:
    result = invoke(env_for(warehouse_home), *command)
    assert_clean_failure(result, says)
    assert "\x1b[31m" not in result.stderr  # escape sequences in user text are shown escaped, not sent


@pytest.mark.parametrize(
    "command",
    [
        ["strava-stub", "--port", "70000"],
        ["strava-stub", "--port", "-1"],
        ["strava-stub", "--short-limit", "-5"],
        ["webhook", "serve", "--port", "0"],
        ["webhook", "serve", "--port", "65536"],
        ["validate", "--runs", "0"],
        ["validate", "--runs", "many"],
        ["thresholds", "set", "1", "shoes.mileage", "warning_km", "lots"],
        ["sync", "--athlete"],
        ["athletes", "remove"],
    ],
    ids=" ".join,
)
def test_bad_numbers_and_missing_values_are_usage_errors(home: Path, command: list[str]) -> None:
    assert_usage_error(invoke(env_for(home), *command))


def test_sql_json_output_is_valid_json_for_every_value_type(tmp_path: Path, warehouse_home: Path) -> None:
    query = (
        "select interval 1 day as i, 'nan'::double as n, 'inf'::double as inf, uuid() as u, "
        "{'a': interval 2 hour} as s, [1.5, 'nan'::double] as l, '[1' as not_json, 'x'::blob as b"
    )
    result = invoke(env_for(warehouse_home), "sql", query, "--format", "json")
    assert result.exit_code == 0, result.output

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    (row,) = json.loads(result.stdout, parse_constant=refuse)
    assert row["i"] == "1 day, 0:00:00" and row["n"] == "nan" and row["inf"] == "inf"
    assert row["s"] == {"a": "2:00:00"} and row["l"] == [1.5, "nan"] and row["not_json"] == "[1"


# --- BACKSTRIDE_HOME that is missing, a file, or unreadable -------------------------------------

HOME_COMMANDS = [
    ["athletes", "list"],
    ["athletes", "remove", "1"],
    ["athletes", "set", "1", "--digest", "on"],
    ["sync"],
    ["build"],
    ["validate"],
    ["validate", "--retry-quarantine"],
    ["digest"],
    ["run"],
    ["sql", "select 1"],
    ["thresholds", "list"],
    ["thresholds", "set", "1", "shoes.mileage", "warning_km", "700"],
    ["thresholds", "unset", "1", "shoes.mileage", "warning_km"],
    ["webhook", "process"],
    ["webhook", "serve"],
    ["demo"],
    ["auth", "url"],
]


@pytest.mark.parametrize("layout", ["a file", "inside a file", "a broken symlink"])
@pytest.mark.parametrize("command", HOME_COMMANDS, ids=" ".join)
def test_a_home_that_cannot_be_a_directory_is_named_in_one_line(
    tmp_path: Path, command: list[str], layout: str
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    if layout == "a file":
        home = afile
    elif layout == "inside a file":
        home = afile / "home"
    else:
        home = tmp_path / "link"
        home.symlink_to(tmp_path / "gone")
    result = invoke(env_for(home), *command)
    assert_clean_failure(result, "BACKSTRIDE_HOME", code=1)
    assert afile.read_text() == "not a directory"


@pytest.mark.parametrize(
    "command",
    [["athletes", "list"], ["sql", "select 1"], ["validate"], ["digest"], ["thresholds", "list"]],
    ids=" ".join,
)
def test_read_commands_on_a_missing_home_say_what_to_do_and_create_nothing(home: Path, command: list[str]) -> None:
    result = invoke(env_for(home), *command)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if result.exit_code:
        assert_clean_failure(result, "run `backstride sync`")
    if command != ["digest"]:  # digest takes its run lock (a file in the home) before it looks
        assert not home.exists()


def test_an_unreadable_home_is_named_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    home.mkdir()
    real_access = os.access
    # Tests run as root here, which reads any directory: report this one unreadable, as it is to a user.
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == home else real_access(p, mode, **kw))
    result = invoke(env_for(home), "athletes", "list")
    assert_clean_failure(result, "BACKSTRIDE_HOME", code=1)
    assert "not readable" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes any directory")
def test_an_unreadable_or_read_only_home_is_named_in_one_line_for_a_real_user(warehouse_home: Path) -> None:
    warehouse_home.chmod(0o500)  # read-only: readers work, writers are refused
    try:
        written = invoke(env_for(warehouse_home), "thresholds", "set", "1", "shoes.mileage", "warning_km", "700")
        assert_clean_failure(written, "permission denied")
        warehouse_home.chmod(0)
        assert_clean_failure(invoke(env_for(warehouse_home), "athletes", "list"), "BACKSTRIDE_HOME")
    finally:
        warehouse_home.chmod(0o700)


# --- the safety net ------------------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_exit_1_with_secrets_redacted(
    warehouse_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.build

    def broken(settings):
        raise RuntimeError(f"the model runner broke\nwhile holding {DEMO_CLIENT_SECRET}")

    monkeypatch.setattr(pipeline.build, "run_build", broken)
    result = invoke(env_for(warehouse_home), "build")
    assert_clean_failure(result, "unexpected RuntimeError: the model runner broke while holding ***", code=1)


def test_a_permission_error_names_the_file_and_the_home(warehouse_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.build

    def denied(settings):
        raise PermissionError(13, "Permission denied", str(warehouse_home / "warehouse.duckdb"))

    monkeypatch.setattr(pipeline.build, "run_build", denied)
    result = invoke(env_for(warehouse_home), "build")
    assert_clean_failure(result, f"permission denied: {warehouse_home / 'warehouse.duckdb'}", code=1)
    assert "BACKSTRIDE_HOME" in result.stderr


def test_every_command_is_behind_the_safety_net() -> None:
    import typer.main

    def commands(group):
        yield from group.registered_commands
        for sub in group.registered_groups:
            yield from commands(sub.typer_instance)

    unguarded = [info.callback.__name__ for info in commands(app) if not getattr(info.callback, "_guarded", False)]
    assert unguarded == []
    assert typer.main.get_command(app)  # still a valid command tree
