"""The weekly digest: decide what to tell each runner, render it, send it exactly once.

`send_digests` reads everything it needs through a read-only connection, then for each
athlete renders one multipart email (plain text + HTML with inline PNG charts), hands it to a
transport and records the outcome in `digest_log` straight away with a short writer section.
The write lock is never held while talking to the mail server. A `sent` row means the server
accepted the message; a second run skips it unless `resend`. A failed athlete is recorded and
retried by the next run, and never stops the others. Each accepted delivery is also appended
to `digest_sent.jsonl` before its row is written, so a process killed in between does not send
it again: the next run replays the journal first.

Wording follows shared/evidence.md "How to word it": findings ranked by severity then evidence
grade, the grade said in words, patterns "linked to higher injury risk in studies", never a
diagnosis, closing with the persistent-pain and red-flag advice.

Never an all-clear built on missing data (`pipeline.data_gaps` reads what is missing):

- **Held** (no email, nothing recorded, the report says why): the athlete's last sync failed
  (error, needs_reauth) or has not listed the whole week (deferred mid-listing, or no sync since
  the week ended). Which runs there were is unknown, so any email would be a guess. The next
  run after a sync that succeeds sends it, once.
- **Sent, saying what it could not see**: the week is fully listed but details or streams are
  still queued, rows are quarantined, a shoe is missing on Strava or a window rule lacks
  history. The runs and distances are known, so most factors are judged; the factors a gap
  blinds get no "nothing to report" line and are named as not judged. Holding instead would
  tie the whole email to the quota (a new athlete's backlog takes hours to days), and the week
  is sent once: what arrives later counts in the next weeks' windows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import re
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import jinja2

from pipeline.charts import CSS_WIDTH, ShoeBar, WeekBar, shoe_mileage_png, weekly_distance_png
from pipeline.config import Settings
from pipeline.data_gaps import WeekGaps, as_date, days_words, read_gaps
from pipeline.mailer import ATHLETE_HEADER, WEEK_HEADER, DeliveryError, Transport, transport_for
from pipeline.warehouse import connect_reader, publish_replica, write_lock, writer

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
CHART_WEEKS = 12
MAX_SHOES_IN_CHART = 6
# After this many delivery failures in a row that are not about one address, the mail server
# is taken to be down: the rest of the batch is left for the next run instead of timing out.
MAX_CONSECUTIVE_TRANSPORT_FAILURES = 3

SEVERITY_RANK = {"warning": 0, "watch": 1, "info": 2}
SEVERITY_WORDS = {"warning": "Warning", "watch": "Worth watching", "info": "For information"}
GRADE_RANK = {"strong": 0, "moderate": 1, "limited": 2, "rule_of_thumb": 3}
GRADE_WORDS = {
    "strong": "strong (consistent findings in large studies)",
    "moderate": "moderate (one large study, or consistent smaller ones)",
    "limited": "limited (small or lab studies: plausible, not shown to prevent injury)",
    "rule_of_thumb": "rule of thumb (common advice among runners and coaches, not tested in injury studies)",
}


@dataclass(frozen=True)
class Factor:
    """One of the article's seven factors: how the email names it, checks it and advises on it."""

    key: str
    title: str
    checked: str  # what backstride looked at, for the "fine" line
    advice: str  # the article's advice (evidence.md table)


FACTORS: tuple[Factor, ...] = (
    Factor(
        "injury",
        "Pain and injury",
        "pain notes in your activities and returns after a break",
        "An injured back needs rest from running and a doctor. See a doctor or physiotherapist if pain persists.",
    ),
    Factor(
        "distance",
        "Distance and recovery",
        "long-run spikes, recovery after big runs and how this week compared with recent ones",
        "Long runs take their toll: allow recovery, up to two days or more after a big run. Keep moving on "
        "non-run days (walk, swim, cycle, yoga), and do not run every other day if your back feels strained.",
    ),
    Factor(
        "shoes",
        "Running shoes",
        "the mileage, age and rotation of your shoes",
        "Wear shoes that fit and are made for running, and replace worn ones: a frequent runner's pair "
        "lasts about one to two years.",
    ),
    Factor(
        "posture",
        "Posture and form",
        "cadence, and form late in long runs",
        "Form falters when you are tired: keep your back straight, shoulders relaxed, arms at 90 degrees and "
        "fists unclenched. Running with a buddy or a club helps.",
    ),
    Factor(
        "strength",
        "Strength and core",
        "strength, core, Pilates and yoga sessions on Strava",
        "Weak core muscles make the body compensate and load the spine: add core strengthening work.",
    ),
    Factor(
        "preparation",
        "Warm-up and cool-down",
        "whether runs started and ended with easier kilometres",
        "Warm up with gentle stretches and then raise your heart rate; cool down the same way in reverse.",
    ),
    Factor(
        "surface",
        "Running surface",
        "trail, grass and track sessions",
        "Pavements are hard on joints and back: try sprints on grass once a week, and add restorative work "
        "such as yoga.",
    ),
)
FACTOR_BY_KEY = {f.key: f for f in FACTORS}


@dataclass(frozen=True)
class RuleText:
    """What a rule is called in subjects and headings, and why it matters.

    The models' `message` already carries the athlete's numbers and why they matter, so `why`
    is shown only when a flag arrives without a message.
    """

    label: str
    why: str


RULE_TEXT: dict[str, RuleText] = {
    "distance.single_run_spike": RuleText(
        "long-run spike",
        "In a study of 5,200 runners (Frandsen et al., 2025), a run 10-30% longer than the longest of the "
        "previous 30 days went with about 1.6 times the injury rate, and one more than twice as long with about "
        "2.3 times. Build long runs up in smaller steps.",
    ),
    "distance.weekly_change": RuleText(
        "big change in weekly distance",
        "Shown for information only: studies disagree on whether week-to-week changes matter. A trial of the "
        "'10% rule' found no fewer injuries, and the large 2025 study found no week-to-week link.",
    ),
    "distance.recovery_after_big_run": RuleText(
        "little recovery after a big run",
        "The article advises up to two days of recovery after a big run. Tissues keep rebuilding for about "
        "three days after a long effort, but no study shows that a set rest prevents injury.",
    ),
    "distance.monotony": RuleText(
        "same load every day",
        "Training monotony (Foster, 1998) is high when days are alike with no easy days between; small studies "
        "link it to illness and overtraining, and the cut-off of 2.0 is a convention.",
    ),
    "shoes.mileage": RuleText(
        "worn shoes",
        "Replacing shoes at 480-800 km is a common convention. Midsoles measurably lose cushioning with use, "
        "but no study shows a mileage at which shoes start to cause injury.",
    ),
    "shoes.age": RuleText(
        "old shoes",
        "The article suggests a frequent runner's pair lasts about one to two years. Strava keeps no purchase "
        "date, so the age counts from your first run in the shoe.",
    ),
    "shoes.rotation": RuleText(
        "one pair of shoes",
        "In a study of 264 runners (Malisoux et al., 2015), those who alternated several pairs had about 40% "
        "fewer injuries than those who ran in one pair.",
    ),
    "shoes.unknown_gear": RuleText(
        "runs without shoes logged",
        "Without a shoe on a run, its kilometres do not count towards any pair. Pick the shoe on Strava so the "
        "mileage check works.",
    ),
    "posture.cadence": RuleText(
        "low cadence",
        "In a lab study (Heiderscheit et al., 2011), raising cadence by 5% lowered knee load and 10% also hip "
        "load. It has not been shown to prevent injury; if you try it, raise it gradually.",
    ),
    "posture.form_fading": RuleText(
        "form fading late in long runs",
        "Stride rate tends to drop and heart rate to drift as you tire, and the article notes that posture "
        "falters when tired. Linked to fatigue in small studies, not shown to cause injury.",
    ),
    "surface.no_soft_surface": RuleText(
        "only hard surfaces",
        "The article suggests softer surfaces now and then. Studies of surface and injury are few and mixed.",
    ),
    "preparation.warmup": RuleText(
        "few warm-ups",
        "Trials of warm-ups are mixed: three of five found fewer injuries, while one in runners found no effect.",
    ),
    "strength.no_strength_14d": RuleText(
        "no strength work logged",
        "In a review of trials (Lauersen et al., 2014), strength training cut sports injuries to about a third. "
        "For back pain in runners the evidence is limited: weak deep core muscles raised spinal load in a "
        "simulation.",
    ),
    "strength.low_frequency": RuleText(
        "little strength work",
        "In a review of trials (Lauersen et al., 2014), strength training cut sports injuries to about a third. "
        "For back pain in runners the evidence is limited.",
    ),
    "injury.pain_notes": RuleText(
        "pain noted",
        "A previous injury is the most consistent predictor of the next one in studies of runners. Please rest "
        "from running and see a doctor or physiotherapist, especially if the pain persists.",
    ),
    "injury.return_after_break": RuleText(
        "return after a break",
        "The weeks after a break are linked to higher injury risk in studies of runners. Build back gradually "
        "and stay below your longest run from before the break for now.",
    ),
}


def rule_text(rule_id: str, factor: str) -> RuleText:
    """The wording for a rule; an unknown rule falls back to its factor, so new rules still read well."""
    if rule_id in RULE_TEXT:
        return RULE_TEXT[rule_id]
    title = FACTOR_BY_KEY[factor].title.lower() if factor in FACTOR_BY_KEY else factor.replace("_", " ")
    return RuleText(title, "This pattern is linked to higher injury risk in some studies; see the grade below.")


# --- what the run produces ----------------------------------------------------------------


@dataclass
class DigestResult:
    """What happened for one athlete: status is sent | skipped_already_sent | disabled | held | failed.

    `held`: the last sync failed or has not listed the whole week, so nothing was sent or
    recorded (`reason` says why); a later run sends it once the data is there. `gaps` sums up
    what a sent digest could not see and which factors it did not judge.
    """

    athlete_id: int
    week_start: dt.date | None
    status: str
    path: str | None = None
    message_id: str | None = None
    error: str | None = None
    subject: str | None = None
    reason: str | None = None
    gaps: str | None = None

    def __str__(self) -> str:
        week = self.week_start.isoformat() if self.week_start else "-"
        line = f"athlete {self.athlete_id} week {week}: {self.status}"
        if self.status == "sent":
            line += f" -> {self.path or self.message_id}"
        if self.reason:
            line += f" ({self.reason})"
        if self.gaps:
            line += f" [incomplete data: {self.gaps}]"
        return line + (f" ({self.error})" if self.error else "")


@dataclass
class DigestReport:
    """One entry per athlete considered, in the order they were handled."""

    results: list[DigestResult] = field(default_factory=list)

    @property
    def items(self) -> list[DigestResult]:
        """The same list as `results` (the demo reads it under this name)."""
        return self.results

    @property
    def ok(self) -> bool:
        return not any(r.status == "failed" for r in self.results)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    def by_athlete(self) -> dict[int, DigestResult]:
        return {r.athlete_id: r for r in self.results}

    @property
    def held(self) -> list[DigestResult]:
        """Athletes whose digest waits for a sync that succeeds (not failures of this run)."""
        return [r for r in self.results if r.status == "held"]

    def summary(self) -> dict[str, int]:
        """Counts per status, e.g. for an Airflow task's return value."""
        return {s: self.count(s) for s in ("sent", "skipped_already_sent", "disabled", "failed")}


# --- weeks and time zones -----------------------------------------------------------------


def athlete_zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def last_complete_week(timezone: str | None, now: dt.datetime | None = None) -> dt.date:
    """The Monday of the last complete ISO week (Mon-Sun) on the athlete's own calendar."""
    now = now or dt.datetime.now(dt.UTC)
    today = now.astimezone(athlete_zone(timezone)).date()
    return today - dt.timedelta(days=today.weekday() + 7)


def week_label(week_start: dt.date) -> str:
    return f"{week_start.day} {week_start:%b}"


def week_range_label(week_start: dt.date) -> str:
    end = week_start + dt.timedelta(days=6)
    if end.month == week_start.month:
        return f"{week_start.day}-{end.day} {end:%B %Y}"
    if end.year == week_start.year:
        return f"{week_start.day} {week_start:%B} - {end.day} {end:%B %Y}"
    return f"{week_start.day} {week_start:%B %Y} - {end.day} {end:%B %Y}"


# --- reading the warehouse ----------------------------------------------------------------


@dataclass
class AthleteRow:
    athlete_id: int
    firstname: str | None
    email: str | None
    timezone: str | None
    digest_enabled: bool


@dataclass
class DigestInputs:
    """Everything one digest says, read from the marts for one athlete and week."""

    athlete: AthleteRow
    week_start: dt.date
    weeks: dict[dt.date, dict[str, Any]] = field(default_factory=dict)  # weekly_load rows by week
    flags: list[dict[str, Any]] = field(default_factory=list)  # risk_flags for the chart's weeks
    shoes: list[dict[str, Any]] = field(default_factory=list)
    quarantined: int = 0  # activities of this week held in quarantine
    gaps: WeekGaps = field(default_factory=WeekGaps)  # what the warehouse could not see of the week


REQUIRED_RELATIONS = ("athletes", "weekly_load", "risk_flags", "shoe_status", "quarantine", "digest_log")


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _check_relations(con: duckdb.DuckDBPyConnection) -> None:
    present = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    missing = [name for name in REQUIRED_RELATIONS if name not in present]
    if missing:
        raise RuntimeError(
            f"the warehouse has no {', '.join(missing)} yet: run `backstride build` (or `backstride demo`) first"
        )


def _athletes(con: duckdb.DuckDBPyConnection, athlete_id: int | None) -> list[AthleteRow]:
    sql = "select athlete_id, firstname, email, timezone, digest_enabled from athletes"
    params: list[Any] = []
    if athlete_id is not None:
        sql += " where athlete_id = ?"
        params.append(athlete_id)
    rows = _rows(con, sql + " order by athlete_id", params)
    if athlete_id is not None and not rows:
        raise LookupError(f"no athlete {athlete_id} in the warehouse")
    return [AthleteRow(**r) for r in rows]


def _parse_metrics(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def read_rule_sources(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each rule's source from the rule catalogue (the `rule_thresholds` seed), if it was built."""
    present = con.execute(
        "select count(*) from information_schema.tables where table_name = 'rule_thresholds'"
    ).fetchone()
    if not present or not present[0]:
        return {}
    rows = con.execute(
        "select rule_id, arg_min(source, param) from rule_thresholds where source is not null group by rule_id"
    ).fetchall()
    return {str(rule_id): str(source) for rule_id, source in rows}


def read_inputs(
    con: duckdb.DuckDBPyConnection, athletes: Sequence[AthleteRow], weeks: dict[int, dt.date]
) -> dict[int, DigestInputs]:
    """Read the marts for all athletes at once (one query per table), grouped per athlete."""
    ids = [a.athlete_id for a in athletes]
    if not ids:
        return {}
    first = min(weeks.values()) - dt.timedelta(weeks=CHART_WEEKS - 1)
    last = max(weeks.values())
    inputs = {a.athlete_id: DigestInputs(a, weeks[a.athlete_id]) for a in athletes}
    in_ids = "athlete_id in (select unnest(?::bigint[]))"

    for row in _rows(
        con, f"select * from weekly_load where {in_ids} and week_start between ? and ?", [ids, first, last]
    ):
        item = inputs[row["athlete_id"]]
        week = as_date(row["week_start"])
        if week is not None and item.week_start - dt.timedelta(weeks=CHART_WEEKS - 1) <= week <= item.week_start:
            item.weeks[week] = row

    for row in _rows(
        con,
        f"""select athlete_id, week_start, factor, rule_id, severity, evidence, message, metrics
            from risk_flags where {in_ids} and week_start between ? and ?""",
        [ids, first, last],
    ):
        item = inputs[row["athlete_id"]]
        row["week_start"] = as_date(row["week_start"])
        row["metrics"] = _parse_metrics(row["metrics"])
        item.flags.append(row)

    for row in _rows(
        con, f"select * from shoe_status where {in_ids} order by distance_km desc nulls last, gear_id", [ids]
    ):
        inputs[row["athlete_id"]].shoes.append(row)

    # Quarantined rows count for the week the activity happened in (its local start date), or,
    # when the row has no usable date, the week it was quarantined: see pipeline.data_gaps.
    gaps = read_gaps(
        con,
        {a.athlete_id: weeks[a.athlete_id] for a in athletes},
        {a.athlete_id: athlete_zone(a.timezone) for a in athletes},
    )
    for athlete_id, week_gaps in gaps.items():
        inputs[athlete_id].gaps = week_gaps
        inputs[athlete_id].quarantined = week_gaps.count("quarantine_week")
    return inputs


# --- deciding what to say -----------------------------------------------------------------


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN


def fmt_km(value: float | None) -> str:
    if value is None:
        return "0 km"
    return f"{value:,.0f} km" if value >= 100 else f"{value:.1f} km"


def fmt_duration(seconds: float | None) -> str:
    minutes = round((seconds or 0) / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def _flag_sort_key(flag: dict[str, Any]) -> tuple[int, int, str]:
    return (
        SEVERITY_RANK.get(str(flag.get("severity")), 3),
        GRADE_RANK.get(str(flag.get("evidence")), 4),
        str(flag.get("rule_id")),
    )


def history_sentence(gaps: WeekGaps) -> str | None:
    """Window rules waiting for history, said once: "Some checks need 4 weeks of history: ..."."""
    groups: dict[tuple[int, dt.date], list[str]] = defaultdict(list)
    for wait in gaps.history:
        label = rule_text(wait.rule_id, wait.factor).label
        if label not in groups[(wait.needed_days, wait.starts)]:
            groups[(wait.needed_days, wait.starts)].append(label)
    sentences = []
    for (needed, starts), labels in sorted(groups.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        when = f"{starts.day} {starts:%B %Y}"
        which = "the one" if len(labels) == 1 else "the ones"
        if not sentences:
            sentences.append(
                f"Some checks need {days_words(needed)} of history: {which} for {names}; they start from {when}, "
                "and until then they stay silent."
            )
        else:
            check = "The check" if len(labels) == 1 else "The checks"
            verb = "needs" if len(labels) == 1 else "need"
            sentences.append(f"{check} for {names} {verb} {days_words(needed)}; from {when}.")
    return " ".join(sentences) or None


def compose(inputs: DigestInputs, sources: dict[str, str] | None = None) -> dict[str, Any]:
    """The template context: summary, ranked sections per factor, fine factors, chart data.

    `sources` maps rule ids to the study the rule rests on (the rule catalogue's `source`).
    """
    sources = sources or {}
    week = inputs.week_start
    this_week = inputs.weeks.get(week, {})
    runs = int(_num(this_week.get("runs")) or 0)
    distance = _num(this_week.get("distance_km")) or 0.0
    prev4 = _num(this_week.get("prev4_avg_km"))
    change = None
    if prev4 and prev4 > 0 and runs:
        change = distance / prev4 - 1

    summary = {
        "runs": runs,
        "distance": fmt_km(distance),
        "time": fmt_duration(_num(this_week.get("moving_time_s"))),
        "longest": fmt_km(_num(this_week.get("longest_run_km"))),
        "elevation": f"{_num(this_week.get('elevation_gain_m')) or 0:,.0f} m",
        "prev4": fmt_km(prev4) if prev4 else None,
        "change_pct": None if change is None else round(change * 100),
    }

    week_flags = sorted((f for f in inputs.flags if f["week_start"] == week), key=_flag_sort_key)
    by_factor: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for flag in week_flags:
        text = rule_text(str(flag["rule_id"]), str(flag["factor"]))
        by_factor[str(flag["factor"])].append(
            {
                "rule_id": flag["rule_id"],
                "severity": flag["severity"],
                "evidence": flag["evidence"],
                "severity_words": SEVERITY_WORDS.get(str(flag["severity"]), str(flag["severity"])),
                "grade_words": GRADE_WORDS.get(str(flag["evidence"]), str(flag["evidence"]).replace("_", " ")),
                "label": text.label,
                "message": flag["message"] or "",
                "why": "" if flag["message"] else text.why,
                "source": sources.get(str(flag["rule_id"])),
            }
        )
    sections = []
    for factor_key, findings in sorted(by_factor.items(), key=lambda kv: _flag_sort_key(kv[1][0])):
        factor = FACTOR_BY_KEY.get(factor_key)
        sections.append(
            {
                "factor": factor_key,
                "title": factor.title if factor else factor_key.replace("_", " ").capitalize(),
                "severity": findings[0]["severity"],
                "findings": findings,
                "advice": factor.advice if factor else "",
            }
        )
    gaps = inputs.gaps
    unjudged_parts = gaps.unjudged()
    unjudged = [
        {
            "factor": key,
            "title": FACTOR_BY_KEY[key].title if key in FACTOR_BY_KEY else key.replace("_", " ").capitalize(),
            "parts": "; ".join(parts),
        }
        for key, parts in unjudged_parts.items()
    ]
    # A factor is only "nothing to report" when it was checked on complete data.
    fine = [
        {"factor": f.key, "title": f.title, "checked": f.checked}
        for f in FACTORS
        if f.key not in by_factor and f.key not in unjudged_parts
    ]

    # The subject names the most important findings overall (not section by section).
    concerns = sorted(
        (f for s in sections for f in s["findings"] if f["severity"] in ("warning", "watch")), key=_flag_sort_key
    )
    labels: list[str] = []
    for finding in concerns:
        if finding["label"] not in labels:
            labels.append(finding["label"])
    if labels:
        headline = " and ".join(labels[:2]) if len(labels) <= 2 else f"{labels[0]}, {labels[1]} and more"
    elif gaps.gaps:  # never "a steady week" or "no runs logged" on missing data
        headline = "some data still missing"
    elif runs and gaps.history:
        headline = "some checks wait for more history"
    elif runs:
        headline = "a steady week"
    else:
        headline = "no runs logged"
    subject = f"Week of {week_label(week)}: {headline}"

    chart_weeks = [week - dt.timedelta(weeks=CHART_WEEKS - 1 - i) for i in range(CHART_WEEKS)]
    spike_weeks = {
        f["week_start"] for f in inputs.flags if f["rule_id"] == "distance.single_run_spike" and f["severity"] != "info"
    }
    bars = [
        WeekBar(w, _num(inputs.weeks.get(w, {}).get("distance_km")) or 0.0, spike=w in spike_weeks, current=w == week)
        for w in chart_weeks
    ]
    earlier = [b.distance_km for b in bars[:-1]]
    distance_alt = (
        f"Bar chart of your weekly running distance for the {CHART_WEEKS} weeks to the week of {week_label(week)}: "
        f"this week {fmt_km(bars[-1].distance_km)}, the {CHART_WEEKS - 1} weeks before averaged "
        f"{fmt_km(sum(earlier) / len(earlier))}, highest {fmt_km(max(b.distance_km for b in bars))}. "
        + (
            "Long-run spikes are marked in the weeks of "
            + ", ".join(week_label(b.week_start) for b in bars if b.spike)
            + "."
            if any(b.spike for b in bars)
            else "No long-run spikes in these weeks."
        )
    )

    shoes = []
    for shoe in inputs.shoes:
        name = " ".join(str(shoe.get("name") or "").split()) or " ".join(
            str(p) for p in (shoe.get("brand_name"), shoe.get("model_name")) if p
        )
        km = _num(shoe.get("distance_km")) or 0.0
        watch, warning = _num(shoe.get("watch_km")), _num(shoe.get("warning_km"))
        state = "fine"
        if shoe.get("missing"):  # Strava answered 404: its own total is unknown, only our runs in it
            state = "not found on Strava, so its total is unknown; this is only the runs logged here"
        elif shoe.get("retired"):
            state = "retired"
        elif warning is not None and km >= warning:
            state = f"past the {fmt_km(warning)} replacement mark"
        elif watch is not None and km >= watch:
            state = f"past the {fmt_km(watch)} check mark"
        first = as_date(shoe.get("first_run_date"))
        shoes.append(
            {
                "name": name or "Unnamed shoe",
                "km": km,
                "distance": fmt_km(km),
                "state": state,
                "since": f"{first.day} {first:%b %Y}" if first else None,
                "runs_12w": int(_num(shoe.get("runs_12w")) or 0),
                "retired": bool(shoe.get("retired")),
                "missing": bool(shoe.get("missing")),
                "watch_km": watch,
                "warning_km": warning,
            }
        )
    # the chart measures pairs against the replacement marks: a shoe of unknown total has no bar
    active_shoes = [s for s in shoes if not s["retired"] and not s["missing"]][:MAX_SHOES_IN_CHART]
    shoes_alt = (
        "Bar chart of kilometres per pair of shoes against the replacement marks: "
        + "; ".join(f"{s['name']} {s['distance']} ({s['state']})" for s in active_shoes)
        + "."
    )

    name = _clean_display_name(inputs.athlete.firstname)
    return {
        "athlete_id": inputs.athlete.athlete_id,
        "firstname": name,
        "week_start": week,
        "week_label": week_label(week),
        "week_range": week_range_label(week),
        "subject": subject,
        "headline": headline,
        "has_runs": runs > 0,
        "summary": summary,
        "sections": sections,
        "fine": fine,
        "quarantined": inputs.quarantined,
        "incomplete": not gaps.complete,
        "data_missing": bool(gaps.gaps),
        "gaps": [
            {"key": g.key, "text": g.text, "note": "data-quality" if g.key == "quarantine_week" else None}
            for g in gaps.gaps
        ],
        "unjudged": unjudged,
        "history_note": history_sentence(gaps),
        "bars": bars,
        "distance_alt": distance_alt,
        "shoes": shoes,
        "active_shoes": active_shoes,
        "shoes_alt": shoes_alt,
        "stop_command": f"backstride athletes set {inputs.athlete.athlete_id} --digest off",
    }


# --- rendering ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    """Autoescaping on for everything but the plain-text part: athletes' own text arrives as text."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=lambda name: not (name or "").endswith(".txt"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_ADDR = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$")


def _clean_display_name(name: str | None) -> str:
    """A first name safe for headers and greetings: no control characters (CR/LF), bounded length."""
    cleaned = " ".join(_CONTROL.sub(" ", name or "").split())
    return cleaned[:60]


def valid_address(email: str | None) -> bool:
    return bool(email) and len(email) <= 254 and _ADDR.match(email) is not None  # type: ignore[arg-type]


def _domain_of(mail_from: str) -> str:
    addr = parseaddr(mail_from)[1]
    domain = addr.rpartition("@")[2]
    return domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain or "") else "backstride.local"


def _content_id(name: str, domain: str) -> str:
    """A short Content-ID (long ones get folded across header lines by some clients)."""
    return f"<{name}.{secrets.token_hex(6)}@{domain}>"


def render_digest(
    context: dict[str, Any], settings: Settings, now: dt.datetime | None = None, resend: bool = False
) -> EmailMessage:
    """One multipart/alternative message: plain text, then HTML with related inline PNG charts.

    Raises ValueError when the athlete's address is unusable (never sent, nor half-built).
    """
    domain = _domain_of(settings.mail_from)
    charts = [
        {
            "cid": _content_id("weekly-distance", domain),
            "alt": context["distance_alt"],
            "png": weekly_distance_png(context["bars"]),
            "title": f"Weekly distance, last {CHART_WEEKS} weeks",
            "width": CSS_WIDTH,
        }
    ]
    if context["active_shoes"]:
        charts.append(
            {
                "cid": _content_id("shoe-mileage", domain),
                "alt": context["shoes_alt"],
                "png": shoe_mileage_png(
                    [ShoeBar(s["name"], s["km"], s["watch_km"], s["warning_km"]) for s in context["active_shoes"]]
                ),
                "title": "Shoe mileage",
                "width": CSS_WIDTH,
            }
        )
    for chart in charts:
        chart["src"] = "cid:" + chart["cid"][1:-1]
    env = template_env()
    full = {**context, "charts": charts}
    text = env.get_template("digest.txt").render(full)
    html = env.get_template("digest.html").render(full)

    message = EmailMessage()
    message["Subject"] = context["subject"]
    message["From"] = settings.mail_from
    email = context.get("email")
    if email:
        if not valid_address(email):
            raise ValueError("the athlete's email address is not valid")
        message["To"] = Address(display_name=context["firstname"], addr_spec=email)
    message["Date"] = format_datetime(now or dt.datetime.now(dt.UTC))
    # The same athlete and week always get the same Message-ID, so that if a crash falls
    # between the SMTP server accepting a message and our record of it, the re-sent copy is
    # recognised as the same message by mail clients; an explicit --resend is a new message.
    message["Message-ID"] = (
        make_msgid("digest-resend", domain=domain)
        if resend
        else f"<digest.{int(context['athlete_id'])}.{context['week_start'].isoformat()}@{domain}>"
    )
    message["Auto-Submitted"] = "auto-generated"
    message[ATHLETE_HEADER] = str(context["athlete_id"])
    message[WEEK_HEADER] = context["week_start"].isoformat()
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    html_part = message.get_payload()[1]
    for chart in charts:
        html_part.add_related(chart["png"], "image", "png", cid=chart["cid"], filename=None, disposition="inline")
    return message


# --- delivery and the exactly-once log ----------------------------------------------------


@contextlib.contextmanager
def _digest_run_lock(settings: Settings, wait_s: float = 600.0) -> Iterator[None]:
    """One digest run at a time, so a retried task cannot send alongside a still-running one."""
    from pipeline.warehouse import file_lock

    with file_lock(
        settings.home / "digest.lock", wait_s, "another `backstride digest` run is still sending; try again later"
    ):
        yield


def _journal_path(settings: Settings) -> Path:
    return settings.home / "digest_sent.jsonl"


def _journal_sent(settings: Settings, result: DigestResult, transport: str) -> None:
    """Note a delivery the moment the server accepted it, before its digest_log row.

    The row needs the write lock and a DuckDB connection (tens of milliseconds); a process
    killed in that gap would otherwise send the message again on the next run. Once
    `os.write` returns the line survives a killed process; the fsync covers a power cut.
    """
    entry = {
        "athlete_id": result.athlete_id,
        "week_start": result.week_start.isoformat() if result.week_start else None,
        "message_id": result.message_id,
        "transport": transport,
        "sent_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    fd = os.open(_journal_path(settings), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, (json.dumps(entry) + "\n").encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _replay_journal(settings: Settings) -> int:
    """Record as sent every journaled delivery that digest_log lacks, and republish the replica.

    Idempotent: a delivery already recorded with the same message id is left alone. Returns
    how many journal lines were replayed.
    """
    path = _journal_path(settings)
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # a line torn by the crash: its write never completed, so neither did its fsync
        if isinstance(entry, dict) and entry.get("athlete_id") is not None and entry.get("week_start"):
            entries.append(entry)
    if not settings.warehouse_path.exists():
        return len(entries)
    # Always a writer section, even with nothing to replay: it checkpoints and republishes the
    # replica, which is what `connect_reader` reads. A run killed mid-batch recorded its rows in
    # the warehouse but never republished, and reading a stale digest_log would send them again.
    with writer(settings) as con:
        for e in entries:
            con.execute(
                """insert into digest_log (athlete_id, week_start, status, attempts, sent_at, message_id,
                                               transport, error)
                       values (?, ?, 'sent', 1, ?, ?, ?, null)
                       on conflict (athlete_id, week_start) do update set
                           status = 'sent', attempts = digest_log.attempts + 1, sent_at = excluded.sent_at,
                           message_id = excluded.message_id, transport = excluded.transport, error = null
                       where digest_log.status <> 'sent'
                          or digest_log.message_id is distinct from excluded.message_id""",
                [
                    int(e["athlete_id"]),
                    dt.date.fromisoformat(e["week_start"]),
                    dt.datetime.fromisoformat(e["sent_at"]) if e.get("sent_at") else None,
                    e.get("message_id"),
                    e.get("transport"),
                ],
            )
    path.unlink(missing_ok=True)
    return len(entries)


def _record(settings: Settings, result: DigestResult, transport: str) -> None:
    """Write one athlete's outcome now. A failure never downgrades an earlier 'sent'."""
    with writer(settings, publish=False) as con:
        con.execute(
            """insert into digest_log (athlete_id, week_start, status, attempts, sent_at, message_id, transport, error)
               values (?, ?, ?, 1, ?, ?, ?, ?)
               on conflict (athlete_id, week_start) do update set
                   attempts   = digest_log.attempts + 1,
                   status     = case when excluded.status = 'failed' and digest_log.status = 'sent'
                                     then digest_log.status else excluded.status end,
                   sent_at    = coalesce(excluded.sent_at, digest_log.sent_at),
                   message_id = coalesce(excluded.message_id, digest_log.message_id),
                   transport  = case when excluded.status = 'failed' and digest_log.status = 'sent'
                                     then digest_log.transport else excluded.transport end,
                   error      = excluded.error""",
            [
                result.athlete_id,
                result.week_start,
                "sent" if result.status == "sent" else "failed",
                dt.datetime.now(dt.UTC) if result.status == "sent" else None,
                result.message_id or result.path,
                transport,
                result.error,
            ],
        )


def send_digests(
    settings: Settings,
    week: dt.date | None = None,
    athlete_id: int | None = None,
    resend: bool = False,
    transport: Transport | None = None,
) -> DigestReport:
    """Send each athlete's digest for `week` (default: their last complete week) exactly once.

    Returns what happened per athlete; `report.ok` is False when any athlete failed.
    """
    if week is not None and week.weekday() != 0:
        raise ValueError(f"--week must be a Monday; {week.isoformat()} is a {week:%A}")
    report = DigestReport()
    with _digest_run_lock(settings):
        _replay_journal(settings)  # deliveries a killed run made but could not record
        con = connect_reader(settings)
        try:
            _check_relations(con)
            athletes = _athletes(con, athlete_id)
            weeks = {a.athlete_id: week or last_complete_week(a.timezone) for a in athletes}
            logged = {
                (r["athlete_id"], as_date(r["week_start"])): r["status"]
                for r in _rows(con, "select athlete_id, week_start, status from digest_log")
            }
            todo = [
                a
                for a in athletes
                if a.digest_enabled and (resend or logged.get((a.athlete_id, weeks[a.athlete_id])) != "sent")
            ]
            inputs = read_inputs(con, todo, weeks)
            sources = read_rule_sources(con)
        finally:
            con.close()

        own_transport = transport is None
        transport = transport or transport_for(settings)
        transport_name = str(getattr(transport, "name", type(transport).__name__))
        consecutive_transport_failures = 0
        try:
            for athlete in athletes:
                week_start = weeks[athlete.athlete_id]
                if not athlete.digest_enabled:
                    report.results.append(DigestResult(athlete.athlete_id, week_start, "disabled"))
                    continue
                if athlete.athlete_id not in inputs:
                    report.results.append(DigestResult(athlete.athlete_id, week_start, "skipped_already_sent"))
                    continue
                gaps = inputs[athlete.athlete_id].gaps
                if gaps.hold:  # no "nothing found" email on a failed or unfinished sync
                    reason = f"{gaps.hold}; nothing sent, a later run sends it once the data is there"
                    report.results.append(DigestResult(athlete.athlete_id, week_start, "held", reason=reason))
                    continue
                result = DigestResult(athlete.athlete_id, week_start, "failed", gaps=gaps.summary() or None)
                report.results.append(result)
                if consecutive_transport_failures >= MAX_CONSECUTIVE_TRANSPORT_FAILURES:
                    result.error = "not attempted: the mail server failed repeatedly; the next run will retry"
                    continue
                try:
                    context = compose(inputs[athlete.athlete_id], sources)
                    context["email"] = athlete.email
                    result.subject = context["subject"]
                    message = render_digest(context, settings, resend=resend)
                except ValueError as err:  # an unusable address or header value
                    result.error = str(err)
                    _record(settings, result, transport_name)
                    continue
                except Exception as err:  # a bug must not cost the other athletes their digest
                    result.error = f"could not render the digest: {type(err).__name__}: {err}"
                    _record(settings, result, transport_name)
                    continue
                try:
                    delivered = transport.send(message)
                except DeliveryError as err:
                    result.error = str(err)
                    consecutive_transport_failures = 0 if err.permanent else consecutive_transport_failures + 1
                except Exception as err:  # e.g. an adapted transport raising its own errors: not accepted
                    result.error = f"delivery failed: {type(err).__name__}: {err}"
                    consecutive_transport_failures += 1
                else:
                    consecutive_transport_failures = 0
                    result.status = "sent"
                    result.message_id = str(message["Message-ID"])
                    if transport_name == "outbox":
                        result.path = delivered
                    _journal_sent(settings, result, transport_name)
                _record(settings, result, transport_name)
            _journal_path(settings).unlink(missing_ok=True)  # every delivery is in digest_log now
        finally:
            if own_transport:
                transport.close()
            if report.results:
                with write_lock(settings):
                    publish_replica(settings)
    return report


def set_digest_enabled(settings: Settings, athlete_id: int, enabled: bool) -> None:
    """Turn an athlete's weekly email on or off (`backstride athletes set ID --digest on|off`)."""
    with writer(settings) as con:
        found = con.execute(
            "update athletes set digest_enabled = ? where athlete_id = ? returning athlete_id", [enabled, athlete_id]
        ).fetchall()
    if not found:
        raise LookupError(f"no athlete {athlete_id} in the warehouse")
