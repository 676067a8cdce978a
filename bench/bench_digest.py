"""Benchmark: render 1,000 weekly digests with their charts (target: under 60 s).

Two paths are timed on the same synthetic warehouse (1,000 athletes, 12 weeks of weekly_load,
0-5 risk flags, 1-3 shoes each, a few quarantined rows):

- render: read the marts once, then for every athlete compose the content, draw both PNG
  charts, render the text and HTML templates and serialise the MIME message to bytes.
- send (outbox): the whole `send_digests` run as `backstride digest` does it without SMTP:
  render, write `.eml` + HTML preview, and record each athlete in `digest_log` with its own
  short writer section (the exactly-once bookkeeping). Repeats use `resend=True`.

Usage: .venv/bin/python bench/bench_digest.py [--athletes 1000] [--repeat 3] [--send-repeat 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from pipeline.config import Settings
from pipeline.digest import AthleteRow, compose, read_inputs, render_digest, send_digests
from pipeline.warehouse import connect_reader, writer

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

WEEK = dt.date(2026, 11, 16)
MART_DDL = {
    "risk_flags": """create or replace table risk_flags (athlete_id bigint, week_start date, factor varchar,
        rule_id varchar, severity varchar, evidence varchar, message varchar, metrics json)""",
    "weekly_load": """create or replace table weekly_load (athlete_id bigint, week_start date, runs integer,
        distance_km double, moving_time_s double, longest_run_km double, elevation_gain_m double,
        prev4_avg_km double, change_vs_prev4 double, acwr double, monotony double, strain double)""",
    "shoe_status": """create or replace table shoe_status (athlete_id bigint, gear_id varchar, name varchar,
        brand_name varchar, model_name varchar, distance_km double, first_run_date date, last_run_date date,
        age_days integer, runs_12w integer, retired boolean, watch_km double, warning_km double)""",
}
RULES = [
    ("distance.single_run_spike", "warning", "moderate", "Sunday's run was 38% longer than any in 30 days."),
    ("distance.weekly_change", "info", "limited", "This week was 54% above your 4-week average."),
    ("shoes.mileage", "watch", "rule_of_thumb", "Your main pair has 640 km."),
    ("posture.cadence", "watch", "limited", "Your cadence averaged 154 steps per minute."),
    ("strength.no_strength_14d", "watch", "moderate", "No strength session in 14 days."),
    ("injury.pain_notes", "warning", "strong", "You wrote 'sore lower back' on Tuesday."),
    ("surface.no_soft_surface", "info", "rule_of_thumb", "No trail, grass or track in 4 weeks."),
]
TIMEZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]


def build_warehouse(settings: Settings, athletes: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    people, weeks, flags, shoes, quarantine = [], [], [], [], []
    for a in range(1, athletes + 1):
        people.append((a, f"Runner {a}", f"runner{a}@example.com", rng.choice(TIMEZONES)))
        base = rng.uniform(10, 60)
        for i in range(12):
            week = WEEK - dt.timedelta(weeks=11 - i)
            km = 0.0 if rng.random() < 0.05 else round(base * rng.uniform(0.6, 1.4), 1)
            runs = 0 if km == 0 else rng.randint(2, 6)
            weeks.append(
                (a, week, runs, km, km * 330, km / max(runs, 1) * 1.6, km * 8, base, km / base, 1.1, 1.5, 300.0)
            )
        for rule_id, severity, evidence, message in rng.sample(RULES, rng.randint(0, 5)):
            flags.append((a, WEEK, rule_id.split(".")[0], rule_id, severity, evidence, message, "{}"))
        if rng.random() < 0.3:
            flags.append((a, WEEK - dt.timedelta(weeks=5), "distance", *RULES[0][:3], RULES[0][3], "{}"))
        for s in range(rng.randint(1, 3)):
            km = rng.uniform(50, 950)
            shoes.append(
                (
                    a,
                    f"g{a}_{s}",
                    f"Shoe {s}",
                    "Brand",
                    "Model",
                    km,
                    dt.date(2025, 3, 1),
                    WEEK,
                    600,
                    20,
                    False,
                    600.0,
                    800.0,
                )
            )
        if rng.random() < 0.05:
            quarantine.append((a, a * 100, json.dumps({"start_date_local": "2026-11-18T07:00:00"})))

    frames = {
        "people": pd.DataFrame(people, columns=["athlete_id", "firstname", "email", "timezone"]),
        "weeks_df": pd.DataFrame(
            weeks,
            columns=[
                "athlete_id", "week_start", "runs", "distance_km", "moving_time_s", "longest_run_km",
                "elevation_gain_m", "prev4_avg_km", "change_vs_prev4", "acwr", "monotony", "strain",
            ],
        ),
        "flags_df": pd.DataFrame(
            flags, columns=["athlete_id", "week_start", "factor", "rule_id", "severity", "evidence", "message", "metrics"]
        ),
        "shoes_df": pd.DataFrame(
            shoes,
            columns=[
                "athlete_id", "gear_id", "name", "brand_name", "model_name", "distance_km", "first_run_date",
                "last_run_date", "age_days", "runs_12w", "retired", "watch_km", "warning_km",
            ],
        ),
        "quarantine_df": pd.DataFrame(quarantine, columns=["athlete_id", "activity_id", "row_json"]),
    }  # fmt: skip
    with writer(settings) as con:
        for ddl in MART_DDL.values():
            con.execute(ddl)
        for name, frame in frames.items():
            con.register(name, frame)
        con.execute("insert into athletes (athlete_id, firstname, email, timezone) select * from people")
        con.execute("insert into weekly_load by name select * from weeks_df")
        con.execute("insert into risk_flags by name select * replace (cast(metrics as json) as metrics) from flags_df")
        con.execute("insert into shoe_status by name select * from shoes_df")
        con.execute(
            """insert into quarantine (table_name, record_key, athlete_id, activity_id, batch_id,
                   failed_expectations, row_json)
               select 'activities', cast(activity_id as varchar), athlete_id, activity_id, 'bench',
                   ['distance >= 0'], cast(row_json as json) from quarantine_df"""
        )


def time_render(settings: Settings) -> tuple[float, float, int]:
    """Read the marts and render every digest to MIME bytes; returns (wall s, CPU s, bytes).

    CPU seconds are reported beside wall seconds because the benchmark machine is shared.
    """
    start, cpu_start = time.perf_counter(), time.process_time()
    con = connect_reader(settings)
    try:
        rows = con.execute("select athlete_id, firstname, email, timezone, digest_enabled from athletes").fetchall()
        athletes = [AthleteRow(*r) for r in rows]
        inputs = read_inputs(con, athletes, {a.athlete_id: WEEK for a in athletes})
    finally:
        con.close()
    total = 0
    for athlete in athletes:
        context = compose(inputs[athlete.athlete_id])
        context["email"] = athlete.email
        total += len(render_digest(context, settings).as_bytes())
    return time.perf_counter() - start, time.process_time() - cpu_start, total


def time_send(settings: Settings, resend: bool) -> tuple[float, float, int]:
    start, cpu_start = time.perf_counter(), time.process_time()
    report = send_digests(settings, week=WEEK, resend=resend)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert report.ok, [r for r in report.results if r.status == "failed"][:3]
    return elapsed, cpu, report.count("sent")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="render runs (median reported)")
    parser.add_argument("--send-repeat", type=int, default=1, help="full send_digests runs to the outbox")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp))
        t0 = time.perf_counter()
        build_warehouse(settings, args.athletes)
        print(f"synthetic warehouse: {args.athletes} athletes in {time.perf_counter() - t0:.1f} s")

        time_render(settings)  # warm-up: imports, fonts, template compilation
        renders, render_cpu = [], []
        for i in range(args.repeat):
            seconds, cpu, size = time_render(settings)
            renders.append(seconds)
            render_cpu.append(cpu)
            print(f"render run {i + 1}: {seconds:.2f} s wall, {cpu:.2f} s CPU "
                  f"({seconds / args.athletes * 1000:.1f} ms per digest, {size / args.athletes / 1024:.0f} KiB per message)")  # fmt: skip
        sends, send_cpu = [], []
        for i in range(args.send_repeat):
            seconds, cpu, sent = time_send(settings, resend=i > 0)
            sends.append(seconds)
            send_cpu.append(cpu)
            print(f"send run {i + 1} (outbox + digest_log): {seconds:.2f} s wall, {cpu:.2f} s CPU for {sent} digests")

        median_render = statistics.median(renders)
        summary = {
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
            "machine": f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "athletes": args.athletes,
            "render_median_s": round(median_render, 2),
            "render_ms_per_digest": round(median_render / args.athletes * 1000, 1),
            "render_cpu_median_s": round(statistics.median(render_cpu), 2),
            "send_outbox_median_s": round(statistics.median(sends), 2) if sends else None,
            "send_outbox_cpu_median_s": round(statistics.median(send_cpu), 2) if sends else None,
            "load_average_1min": round(os.getloadavg()[0], 2),
            "target_s": 60,
            "meets_target": median_render < 60,
        }
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
