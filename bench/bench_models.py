"""Benchmark the SQL model build on a synthetic club: 1,000 athletes x 3 years (~600,000 activities).

Data is generated inside DuckDB (set-based SQL, deterministic hashes instead of Python loops):
runs, strength sessions, three shoes each, km splits and stream features for the last 12 weeks.
Then the full `build_models` is timed (median of --repeat builds), and weekly load plus the
single-run spike rule are computed again the way a pandas user would (groupby / resample /
ewm / rolling) to print the ratio. Peak memory comes from getrusage (whole process).

    .venv/bin/python bench/bench_models.py                 # the issue's size
    .venv/bin/python bench/bench_models.py --athletes 50   # a quick look
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.models import build_models, discover
from pipeline.warehouse import init_schema

RUN_TYPES = ("Run", "TrailRun", "VirtualRun")


def generate(con: duckdb.DuckDBPyConnection, athletes: int, years: int, end: dt.date) -> dict[str, int]:
    """Fill the typed tables with a deterministic synthetic club; returns row counts."""
    start = end - dt.timedelta(days=365 * years)
    con.execute(
        """insert into athletes (athlete_id, timezone)
           select i, ['Europe/London', 'America/New_York', 'Australia/Sydney', 'UTC'][i % 4 + 1]
           from range(1, $n + 1) t(i)""",
        {"n": athletes},
    )
    con.execute(
        """insert into gear (gear_id, athlete_id, name, brand_name, model_name, gear_type, distance, retired, is_primary)
           select 'g' || a || '_' || k, a, 'Shoe ' || k, 'Brand', 'Model ' || k, 'shoe',
                  (100 + hash(a, k) % 800) * 1000.0, k = 0 and a % 3 = 0, k = 1
           from range(1, $n + 1) t(a), range(3) s(k)""",
        {"n": athletes},
    )
    # One candidate activity per athlete-day; a hash decides run (~47%), strength (~8%) or rest.
    con.execute(
        """
        create temp table days as
        select a as athlete_id, d::date as day, (hash(a, d) % 10000) / 10000.0 as u,
               (hash(d, a, 7) % 10000) / 10000.0 as v, (hash(a, 3, d) % 10000) / 10000.0 as w
        from range(1, $n + 1) t(a), generate_series($start::date, $end::date, interval 1 day) s(d)
        """,
        {"n": athletes, "start": start, "end": end},
    )
    con.execute(
        """
        insert into activities (activity_id, athlete_id, name, description, sport_type, type, start_date,
            start_date_local, distance, moving_time, elapsed_time, total_elevation_gain, average_speed,
            average_cadence, average_heartrate, gear_id, trainer, manual, has_detail)
        with picked as (
            select *, row_number() over (order by athlete_id, day) as n,
                   case when u < 0.47 then (case when v < 0.10 then 'TrailRun' when v < 0.15 then 'VirtualRun' else 'Run' end)
                        when u < 0.55 then 'WeightTraining' end as sport_type,
                   5 + (athlete_id % 7) as base_km, 270 + (athlete_id % 120) as pace
            from days
        ), sized as (
            select *, case when sport_type = 'WeightTraining' then 0
                           else round(base_km * (case when isodow(day) = 7 then 1.8 else 0.7 + v end)
                                      * (case when w > 0.99 then 1.6 else 1 end), 2) end as km
            from picked where sport_type is not null
        )
        select n, athlete_id,
               case when w < 0.004 then 'Sore back run' else 'Morning ' || sport_type end,
               case when w > 0.995 then 'laps of the track' else '' end,
               sport_type, sport_type,
               (day + to_hours(6 + (hash(n) % 13)::int))::timestamptz,
               day + to_hours(6 + (hash(n) % 13)::int),
               km * 1000, greatest(round(km * pace), 1800 * (km = 0)::int)::int,
               greatest(round(km * pace), 1800 * (km = 0)::int)::int, km * 8, 1000.0 / pace,
               case when sport_type = 'WeightTraining' then null else 78 + (athlete_id % 12) + v end,
               130 + (athlete_id % 30) + 10 * v,
               case when sport_type = 'WeightTraining' or w < 0.05 then null
                    else 'g' || athlete_id || '_' || (hash(n) % 3) end,
               sport_type = 'VirtualRun', false, true
        from sized
        """
    )
    recent = end - dt.timedelta(weeks=12)
    con.execute(
        """
        insert into splits (activity_id, athlete_id, split, distance, elapsed_time, moving_time, average_speed,
                            average_heartrate)
        select activity_id, athlete_id, k + 1, 1000.0,
               round(p * (case when k = 0 then 1.07 else 1 end) * (1 + (hash(activity_id, k) % 50) / 1000.0))::int,
               round(p * (case when k = 0 then 1.07 else 1 end) * (1 + (hash(activity_id, k) % 50) / 1000.0))::int,
               1000.0 / p, average_heartrate
        from (select *, moving_time / (distance / 1000.0) as p from activities
              where sport_type in ('Run', 'TrailRun', 'VirtualRun') and start_date_local >= $recent and distance >= 1000),
             range(0, 60) r(k)
        where k < floor(distance / 1000)
        """,
        {"recent": recent},
    )
    con.execute(
        """
        insert into stream_features (activity_id, athlete_id, sample_count, duration_s, first_third_spm,
            last_third_spm, first_third_pace_s_per_km, last_third_pace_s_per_km, first_third_hr, last_third_hr,
            cadence_samples, heartrate_samples)
        select activity_id, athlete_id, moving_time, moving_time, average_cadence * 2,
               average_cadence * 2 * (1 - (hash(activity_id) % 60) / 1000.0),
               moving_time / (distance / 1000.0), moving_time / (distance / 1000.0) * (1 + (hash(activity_id) % 90) / 1000.0),
               average_heartrate - 5, average_heartrate + 5, moving_time, moving_time
        from activities
        where sport_type in ('Run', 'TrailRun', 'VirtualRun') and start_date_local >= $recent
        """,
        {"recent": recent},
    )
    con.execute("drop table days")
    return {
        t: int(con.execute(f"select count(*) from {t}").fetchone()[0])
        for t in ("athletes", "activities", "splits", "stream_features", "gear")
    }


def pandas_weekly_load_and_spike(con: duckdb.DuckDBPyConnection) -> tuple[float, float, int, int]:
    """Weekly load (with prev-4 average, EWMA ACWR, monotony) and the spike rule, pandas style.

    Returns (seconds to fetch the frame, seconds to compute, weekly rows, spike weeks).
    """
    t0 = time.perf_counter()
    acts = con.execute(
        """select a.athlete_id, a.activity_id, a.sport_type, a.start_date_local, a.distance, a.moving_time,
                  a.total_elevation_gain, a.average_heartrate
           from activities a"""
    ).df()
    fetched = time.perf_counter() - t0
    t0 = time.perf_counter()
    runs = acts[acts["sport_type"].isin(RUN_TYPES)].copy()
    runs["km"] = runs["distance"] / 1000
    runs["day"] = runs["start_date_local"].dt.normalize()
    runs["load"] = runs["moving_time"] / 60 * (runs["average_heartrate"] / 150).fillna(1.0)
    acts["week"] = acts["start_date_local"].dt.to_period("W-SUN").dt.start_time

    # daily grid per athlete (first activity week's Monday to last week's Sunday), then EWMA.
    daily = runs.groupby(["athlete_id", "day"]).agg(km=("km", "sum"), load=("load", "sum"))
    spans = acts.groupby("athlete_id")["week"].agg(["min", "max"])
    frames = []
    for athlete_id, (first, last) in spans.iterrows():
        idx = pd.date_range(first, last + pd.Timedelta(days=6), freq="D")
        d = daily.loc[athlete_id].reindex(idx, fill_value=0.0) if athlete_id in daily.index else None
        if d is None:
            d = pd.DataFrame({"km": 0.0, "load": 0.0}, index=idx)
        d["acute"] = d["load"].ewm(alpha=2 / 8, adjust=False).mean()
        d["chronic"] = d["load"].ewm(alpha=2 / 29, adjust=False).mean()
        d["athlete_id"] = athlete_id
        frames.append(d)
    days = pd.concat(frames).rename_axis("day").reset_index()
    days["week"] = days["day"] - pd.to_timedelta(days["day"].dt.day_of_week, unit="D")
    weekly = days.groupby(["athlete_id", "week"]).agg(
        distance_km=("km", "sum"),
        load=("load", "sum"),
        mean_load=("load", "mean"),
        sd_load=("load", "std"),
        acute=("acute", "last"),
        chronic=("chronic", "last"),
    )
    weekly["prev4_avg_km"] = weekly.groupby(level=0)["distance_km"].transform(
        lambda s: s.shift(1).rolling(4, min_periods=4).mean()
    )
    weekly["change_vs_prev4"] = weekly["distance_km"] / weekly["prev4_avg_km"]
    weekly["acwr"] = weekly["acute"] / weekly["chronic"]
    weekly["monotony"] = weekly["mean_load"] / weekly["sd_load"].replace(0, float("nan"))
    weekly["strain"] = weekly["load"] * weekly["monotony"]
    run_weeks = runs.assign(week=runs["day"] - pd.to_timedelta(runs["day"].dt.day_of_week, unit="D"))
    extra = run_weeks.groupby(["athlete_id", "week"]).agg(
        runs=("km", "size"), longest_run_km=("km", "max"), moving_time_s=("moving_time", "sum")
    )
    weekly = weekly.join(extra).fillna({"runs": 0, "longest_run_km": 0.0, "moving_time_s": 0})

    # spike: each run against the longest run in the previous 30 days.
    runs = runs.sort_values(["athlete_id", "start_date_local", "activity_id"])
    prev = runs.set_index("start_date_local").groupby("athlete_id")["km"].rolling("30D", closed="left").max().to_numpy()
    runs["ratio"] = runs["km"] / prev
    spikes = runs[runs["ratio"] > 1.10]
    spike_weeks = spikes.groupby(["athlete_id", run_weeks.loc[spikes.index, "week"]])["ratio"].max()
    computed = time.perf_counter() - t0
    return fetched, computed, len(weekly), len(spike_weeks)


# The same work as the pandas function, as one SQL statement a DuckDB user would write: the
# weekly grid with prev-4 average, EWMA ACWR and monotony, and the spike rule's weekly maxima.
FOCUSED_SQL = """
create or replace temp table focused_weekly as
with runs as (
    select athlete_id, activity_id, start_date_local as ts, cast(start_date_local as date) as day,
           distance / 1000 as km, moving_time,
           moving_time / 60 * coalesce(average_heartrate / 150, 1.0) as load
    from activities where sport_type in ('Run', 'TrailRun', 'VirtualRun')
),
span as (
    select athlete_id, cast(date_trunc('week', min(start_date_local)) as date) as first_week,
           cast(date_trunc('week', max(start_date_local)) as date) + 6 as last_day
    from activities group by athlete_id
),
days as (
    select athlete_id, cast(unnest(generate_series(first_week, last_day, interval 1 day)) as date) as day
    from span
),
daily as (
    select days.athlete_id, days.day, cast(date_trunc('week', days.day) as date) as week,
           coalesce(sum(runs.km), 0) as km, coalesce(sum(runs.load), 0) as load,
           count(runs.activity_id) as runs, coalesce(max(runs.km), 0) as longest
    from days left join runs on runs.athlete_id = days.athlete_id and runs.day = days.day
    group by days.athlete_id, days.day
),
weekly as (
    select athlete_id, week, sum(km) as km, sum(load) as load, sum(runs) as runs, max(longest) as longest,
           avg(load) / nullif(stddev_samp(load), 0) as monotony,
           sum(load * 0.25 * pow(0.75, date_diff('day', day, week + 6))) as acute_part,
           sum(load * (2 / 29) * pow(1 - 2 / 29, date_diff('day', day, week + 6))) as chronic_part
    from daily group by athlete_id, week
),
ewma as (
    select *,
        list_sum(list_transform(list(acute_part) over w, lambda x, i: x * pow(0.75 ^ 7, len(list(acute_part) over w) - i))) as acute,
        list_sum(list_transform(list(chronic_part) over w, lambda x, i: x * pow((1 - 2 / 29) ^ 7, len(list(chronic_part) over w) - i))) as chronic,
        case when lag(week, 4) over (partition by athlete_id order by week) is not null
             then avg(km) over (partition by athlete_id order by week rows between 4 preceding and 1 preceding) end as prev4
    from weekly
    window w as (partition by athlete_id order by week rows between 23 preceding and current row)
),
spikes as (
    select athlete_id, cast(date_trunc('week', ts) as date) as week,
           max(km / prev) filter (where km / prev > 1.10) as worst_ratio
    from (select *, max(km) over (partition by athlete_id order by ts
                                  range between interval 30 days preceding and current row exclude current row) as prev
          from runs)
    group by all
)
select ewma.*, km / prev4 as change_vs_prev4, acute / chronic as acwr, load * monotony as strain, spikes.worst_ratio
from ewma left join spikes using (athlete_id, week)
"""


def upstream(models: dict, targets: list[str]) -> set[str]:
    """Every model the targets read, directly or not (and the targets)."""
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(models[name].depends_on)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--athletes", type=int, default=1000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="timed builds (the median is reported)")
    parser.add_argument("--db", type=Path, default=None, help="DuckDB file (default: a temporary one)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.duckdb"
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    end = dt.date(2026, 11, 22)
    con = duckdb.connect(str(path))
    init_schema(con)
    t0 = time.perf_counter()
    counts = generate(con, args.athletes, args.years, end)
    con.execute("checkpoint")
    generated_s = time.perf_counter() - t0
    print(f"generated {counts} in {generated_s:.1f} s")

    builds, cpu, reports = [], [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        reports.append(build_models(con, as_of=end))
        builds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    build_median = statistics.median(builds)
    peak_after_build_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    last = reports[-1]
    slowest = sorted(last.seconds.items(), key=lambda kv: -kv[1])[:6]
    subset = upstream(discover(), ["weekly_load", "flag_distance_single_run_spike"])
    subset_s = sum(s for name, s in last.seconds.items() if name in subset)
    load_avg = psutil.getloadavg()[0]
    print(
        f"full build: median {build_median:.2f} s wall over {args.repeat} ({', '.join(f'{b:.2f}' for b in builds)}); "
        f"CPU {statistics.median(cpu):.2f} s (all threads); load average {load_avg:.1f} on {psutil.cpu_count()} cores"
    )
    print(f"slowest models: {', '.join(f'{n} {s:.2f}s' for n, s in slowest)}")
    print(f"SQL models behind weekly_load + spike rule: {subset_s:.2f} s")
    print(f"mart rows: {last.rows}")

    focused = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        con.execute(FOCUSED_SQL)
        focused.append(time.perf_counter() - t0)
    focused_s = statistics.median(focused)
    focused_weeks, focused_spikes = con.execute("select count(*), count(worst_ratio) from focused_weekly").fetchone()
    print(
        f"focused SQL, weekly load + spike only: median {focused_s:.2f} s ({focused_weeks} weeks, {focused_spikes} spike weeks)"
    )
    fetch_s, pandas_s, weekly_rows, spike_weeks = pandas_weekly_load_and_spike(con)
    sql_spike_weeks = con.execute("select count(*) from flag_distance_single_run_spike").fetchone()[0]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"pandas weekly load + spike: {pandas_s:.2f} s compute (+ {fetch_s:.2f} s fetching the frame); "
        f"{weekly_rows} weeks, {spike_weeks} spike weeks (SQL: {last.rows['weekly_load']} weeks, "
        f"{sql_spike_weeks} spike weeks)"
    )
    print(f"ratio pandas / focused SQL (the same work): {(pandas_s + fetch_s) / focused_s:.1f}x")
    print(f"ratio pandas / the SQL models behind weekly_load + spike: {(pandas_s + fetch_s) / subset_s:.1f}x")
    print(f"ratio pandas (weekly load + spike only) / full SQL build: {(pandas_s + fetch_s) / build_median:.2f}x")
    print(f"peak RSS: {peak_after_build_mb:.0f} MB after the SQL builds, {peak_mb:.0f} MB after pandas")
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()} {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, pandas {pd.__version__}",
        "counts": counts,
        "generate_s": round(generated_s, 2),
        "build_s": [round(b, 3) for b in builds],
        "build_median_s": round(build_median, 3),
        "build_cpu_median_s": round(statistics.median(cpu), 3),
        "load_average_1m": round(load_avg, 2),
        "sql_subset_s": round(subset_s, 3),
        "focused_sql_s": round(focused_s, 3),
        "pandas_fetch_s": round(fetch_s, 3),
        "pandas_compute_s": round(pandas_s, 3),
        "peak_rss_after_build_mb": round(peak_after_build_mb),
        "peak_rss_mb": round(peak_mb),
        "slowest_models": dict(slowest),
    }
    print(json.dumps(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    con.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
