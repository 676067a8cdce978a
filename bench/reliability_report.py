"""Run the fault-injection suite and print the figures for RELIABILITY.md.

Usage: .venv/bin/python bench/reliability_report.py
Each reliability test records its figures (faults injected, kills survived, inputs tried,
rows lost) through the `record` fixture; this script collects them into one table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RELIABILITY_REPORT_DIR": tmp, "GX_ANALYTICS_ENABLED": "false"}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability"], cwd=ROOT, env=env
        )
        rows = [json.loads(p.read_text()) for p in sorted(Path(tmp).glob("*.json"))]
    totals = {
        "faults_injected": sum(r.get("faults_injected", 0) for r in rows),
        "kills_survived": sum(r.get("kills", 0) for r in rows),
        "reader_queries_during_builds": sum(r.get("reader_queries_during_builds", 0) for r in rows),
        "rows_lost": sum(r.get("rows_lost", 0) for r in rows),
        "duplicate_emails": sum(r.get("duplicate_emails", 0) for r in rows),
        "leaks": sum(r.get("leaks", 0) for r in rows),
    }
    print(f"# reliability run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, pytest exit {done.returncode}")
    print("| test | figures |\n|---|---|")
    for r in rows:
        name = r.pop("test")
        print(f"| `{name}` | {', '.join(f'{k}={v}' for k, v in r.items())} |")
    print("\n" + json.dumps(totals, indent=1))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
