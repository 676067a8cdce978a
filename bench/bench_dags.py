"""Benchmarks for issue 6: DAG parse time per file, and event-to-warehouse latency.

Parse time is measured the way Airflow's DAG processor pays it: a process that already has
Airflow imported forks, and the child imports one DAG file (with its shared helper module).
Each file is parsed `--repeat` times, each time in a fresh fork; the median is reported.

Event-to-warehouse latency: a real receiver (`backstride webhook serve` in its own process)
gets an activity-create event for an activity that exists on the local Strava stub; we time
from the POST to the activity being readable in the warehouse after `process_inbox`.

    .venv/bin/python bench/bench_dags.py            # both, prints a Markdown table
    .venv/bin/python bench/bench_dags.py --parse-only --json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAGS_DIR = ROOT / "dags"
BASELINE_DAG = """
import pendulum
from airflow.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, tags=["baseline"])
def baseline():
    @task
    def noop() -> None:
        pass

    noop()


baseline()
"""
HEAVY = ("pandas", "great_expectations", "stravalib", "duckdb", "fastapi", "requests", "pyarrow")


def _parse_in_fork(path: Path) -> dict:
    """Fork; the child imports the DAG file and reports seconds, DAG count and heavy modules."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        code = 0
        try:
            import importlib.util

            t0 = time.perf_counter()
            spec = importlib.util.spec_from_file_location(f"dagfile_{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            seconds = time.perf_counter() - t0
            result = {"seconds": seconds, "heavy": sorted(m for m in HEAVY if m in sys.modules), "error": None}
        except BaseException as err:  # report, never raise in a fork
            result, code = {"seconds": None, "heavy": [], "error": repr(err)}, 1
        os.write(write_fd, json.dumps(result).encode())
        os.close(write_fd)
        os._exit(code)
    os.close(write_fd)
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks))


def parse_times(repeat: int = 5) -> dict[str, dict]:
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "false")
    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401 - what the processor has loaded before parsing

    sdk_import_s = time.perf_counter() - t0
    if str(DAGS_DIR) not in sys.path:
        sys.path.append(str(DAGS_DIR))  # the dags bundle is on sys.path when Airflow parses
    results: dict[str, dict] = {}
    for path in sorted(DAGS_DIR.glob("*.py")):
        if path.name == "backstride_common.py":
            continue
        runs = [_parse_in_fork(path) for _ in range(repeat)]
        errors = [r["error"] for r in runs if r["error"]]
        if errors:
            raise RuntimeError(f"{path.name}: {errors[0]}")
        secs = [r["seconds"] for r in runs]
        results[path.name] = {
            "seconds": statistics.median(secs),
            "max_seconds": max(secs),
            "heavy": runs[0]["heavy"],
        }
    results["_airflow_sdk_import_s"] = {"seconds": sdk_import_s}
    # Baseline: a one-task DAG with nothing of ours, parsed the same way (what Airflow costs alone).
    with tempfile.TemporaryDirectory() as tmp:
        baseline = Path(tmp) / "baseline_dag.py"
        baseline.write_text(BASELINE_DAG)
        results["_baseline_trivial_dag"] = {
            "seconds": statistics.median(_parse_in_fork(baseline)["seconds"] for _ in range(repeat))
        }
    return results


def event_latency(runs: int = 5) -> dict[str, float]:
    """POST -> process_inbox -> activity in the warehouse, against the local Strava stub."""
    sys.path.insert(0, str(ROOT / "tests" / "dags"))
    from e2e_support import latency_runs  # the end-to-end fixtures, reused

    samples = latency_runs(runs)
    return {
        "median_total_s": statistics.median(s["total"] for s in samples),
        "median_post_s": statistics.median(s["post"] for s in samples),
        "median_process_s": statistics.median(s["process"] for s in samples),
        "runs": len(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parse-only", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, object] = {}
    parse = parse_times(args.repeat)
    if args.parse_only:
        print(json.dumps(parse) if args.json else parse)
        return
    results["parse"] = parse
    results["event_latency"] = event_latency()
    if args.json:
        print(json.dumps(results))
        return
    print("| DAG file | parse median (s) | max (s) | heavy imports |")
    print("|---|---|---|---|")
    for name, r in parse.items():
        if not name.startswith("_"):
            print(f"| {name} | {r['seconds']:.4f} | {r['max_seconds']:.4f} | {', '.join(r['heavy']) or 'none'} |")
    print(f"| baseline: a trivial one-task DAG | {parse['_baseline_trivial_dag']['seconds']:.4f} | | none |")
    print(
        f"\n(airflow.sdk import in the parent, paid once per processor: {parse['_airflow_sdk_import_s']['seconds']:.2f} s)"
    )
    lat = results["event_latency"]
    print(
        f"\nevent-to-warehouse latency, median of {lat['runs']}: {lat['median_total_s']:.3f} s "
        f"(POST answered in {lat['median_post_s'] * 1000:.1f} ms, process_inbox {lat['median_process_s']:.3f} s)"
    )


if __name__ == "__main__":
    main()
