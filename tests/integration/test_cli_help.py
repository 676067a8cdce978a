"""Every command explains itself with --help."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

COMMANDS = [
    [],
    ["auth"],
    ["auth", "url"],
    ["auth", "exchange"],
    ["athletes"],
    ["athletes", "add"],
    ["athletes", "list"],
    ["athletes", "remove"],
    ["athletes", "set"],
    ["sync"],
    ["sql"],
    ["build"],
    ["run"],
    ["validate"],
    ["digest"],
    ["demo"],
    ["strava-stub"],
    ["thresholds"],
    ["webhook"],
    ["webhook", "serve"],
    ["webhook", "subscribe"],
    ["webhook", "list"],
    ["webhook", "unsubscribe"],
    ["webhook", "process"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "backstride")
def test_help_describes_the_command(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.split()) > 15  # a description, not just a usage line
