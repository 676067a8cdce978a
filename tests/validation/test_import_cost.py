"""Importing the validation module must not import Great Expectations (about 14 s): DAG files
and the CLI import it at parse time."""

from __future__ import annotations

import subprocess
import sys


def test_importing_validation_does_not_import_great_expectations() -> None:
    code = "import sys, pipeline.validation, pipeline.loading; print('great_expectations' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "False"
