"""Deciding what one digest says: the template context for one athlete and week.

Findings are ranked by severity, then evidence grade (shared/evidence.md "How to word it").
A factor is "nothing to report" only when it was checked on complete data; a factor a data
gap blinds is named as not judged instead, and the subject never calls a week steady on
missing data.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from pipeline.digest.addresses import clean_display_name
from pipeline.digest.charts import WeekBar
from pipeline.digest.data_gaps import WeekGaps, as_date
from pipeline.digest.formatting import fmt_duration, fmt_km, num
from pipeline.digest.gap_wording import days_words
from pipeline.digest.inputs import CHART_WEEKS, DigestInputs
from pipeline.digest.weeks import week_label, week_range_label
from pipeline.digest.wording import (
    FACTOR_BY_KEY,
    FACTORS,
    FALLBACK_WHY,
    GRADE_RANK,
    SEVERITY_RANK,
    grade_words,
    rule_label,
    severity_words,
)

MAX_SHOES_IN_CHART = 6

Finding = dict[str, Any]


def compose(inputs: DigestInputs, sources: dict[str, str] | None = None) -> dict[str, Any]:
    """The template context: summary, ranked sections per factor, fine factors, chart data.

    `sources` maps rule ids to the study the rule rests on (the rule catalogue's `source`).
    """
    week = inputs.week_start
    this_week = inputs.weeks.get(week, {})
    runs = int(num(this_week.get("runs")) or 0)
    sections = finding_sections(inputs, sources or {})
    gaps = inputs.gaps
    headline = choose_headline(sections, gaps, runs)
    bars, distance_alt = distance_chart(inputs)
    shoes = shoe_lines(inputs.shoes)
    active_shoes = [s for s in shoes if not s["retired"] and not s["missing"]][:MAX_SHOES_IN_CHART]
    return {
        "athlete_id": inputs.athlete.athlete_id,
        "firstname": clean_display_name(inputs.athlete.firstname),
        "week_start": week,
        "week_label": week_label(week),
        "week_range": week_range_label(week),
        "subject": f"Week of {week_label(week)}: {headline}",
        "headline": headline,
        "has_runs": runs > 0,
        "summary": week_summary(this_week),
        "sections": sections,
        **judged_factors(sections, gaps),
        "quarantined": inputs.quarantined,
        "incomplete": not gaps.complete,
        "data_missing": bool(gaps.gaps),
        "gaps": [
            {"key": g.key, "text": g.text, "note": "data-quality" if g.key == "quarantine_week" else None}
            for g in gaps.gaps
        ],
        "history_note": history_sentence(gaps),
        "bars": bars,
        "distance_alt": distance_alt,
        "shoes": shoes,
        "active_shoes": active_shoes,
        "shoes_alt": shoes_alt(active_shoes),
        "stop_command": f"backstride athletes set {inputs.athlete.athlete_id} --digest off",
    }


def week_summary(this_week: dict[str, Any]) -> dict[str, Any]:
    """The week in numbers, with its change against the four weeks before."""
    runs = int(num(this_week.get("runs")) or 0)
    distance = num(this_week.get("distance_km")) or 0.0
    prev4 = num(this_week.get("prev4_avg_km"))
    change = distance / prev4 - 1 if prev4 and prev4 > 0 and runs else None
    return {
        "runs": runs,
        "distance": fmt_km(distance),
        "time": fmt_duration(num(this_week.get("moving_time_s"))),
        "longest": fmt_km(num(this_week.get("longest_run_km"))),
        "elevation": f"{num(this_week.get('elevation_gain_m')) or 0:,.0f} m",
        "prev4": fmt_km(prev4) if prev4 else None,
        "change_pct": None if change is None else round(change * 100),
    }


def flag_sort_key(flag: dict[str, Any]) -> tuple[int, int, str]:
    return (
        SEVERITY_RANK.get(str(flag.get("severity")), 3),
        GRADE_RANK.get(str(flag.get("evidence")), 4),
        str(flag.get("rule_id")),
    )


def finding(flag: dict[str, Any], sources: dict[str, str]) -> Finding:
    """One flag as the email shows it; its reasons and figures are the models' message."""
    return {
        "rule_id": flag["rule_id"],
        "severity": flag["severity"],
        "evidence": flag["evidence"],
        "severity_words": severity_words(str(flag["severity"])),
        "grade_words": grade_words(str(flag["evidence"])),
        "label": rule_label(str(flag["rule_id"]), str(flag["factor"])),
        "message": flag["message"] or "",
        "why": "" if flag["message"] else FALLBACK_WHY,
        "source": sources.get(str(flag["rule_id"])),
    }


def finding_sections(inputs: DigestInputs, sources: dict[str, str]) -> list[dict[str, Any]]:
    """This week's findings grouped by factor, the most serious factor first."""
    week_flags = sorted((f for f in inputs.flags if f["week_start"] == inputs.week_start), key=flag_sort_key)
    by_factor: dict[str, list[Finding]] = defaultdict(list)
    for flag in week_flags:
        by_factor[str(flag["factor"])].append(finding(flag, sources))
    sections = []
    for factor_key, findings in sorted(by_factor.items(), key=lambda kv: flag_sort_key(kv[1][0])):
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
    return sections


def judged_factors(sections: list[dict[str, Any]], gaps: WeekGaps) -> dict[str, list[dict[str, Any]]]:
    """`unjudged`: factors a gap blinds; `fine`: factors checked on complete data with nothing found."""
    flagged = {s["factor"] for s in sections}
    unjudged_parts = gaps.unjudged()
    unjudged = [
        {
            "factor": key,
            "title": FACTOR_BY_KEY[key].title if key in FACTOR_BY_KEY else key.replace("_", " ").capitalize(),
            "parts": "; ".join(parts),
        }
        for key, parts in unjudged_parts.items()
    ]
    fine = [
        {"factor": f.key, "title": f.title, "checked": f.checked}
        for f in FACTORS
        if f.key not in flagged and f.key not in unjudged_parts
    ]
    return {"unjudged": unjudged, "fine": fine}


def choose_headline(sections: list[dict[str, Any]], gaps: WeekGaps, runs: int) -> str:
    """The subject names the most important findings overall (not section by section)."""
    concerns = sorted(
        (f for s in sections for f in s["findings"] if f["severity"] in ("warning", "watch")), key=flag_sort_key
    )
    labels: list[str] = []
    for item in concerns:
        if item["label"] not in labels:
            labels.append(item["label"])
    if labels:
        return " and ".join(labels[:2]) if len(labels) <= 2 else f"{labels[0]}, {labels[1]} and more"
    if gaps.gaps:  # never "a steady week" or "no runs logged" on missing data
        return "some data still missing"
    if runs and gaps.history:
        return "some checks wait for more history"
    return "a steady week" if runs else "no runs logged"


def history_sentence(gaps: WeekGaps) -> str | None:
    """Window rules waiting for history, said once: "Some checks need 4 weeks of history: ..."."""
    groups: dict[tuple[int, dt.date], list[str]] = defaultdict(list)
    for wait in gaps.history:
        label = rule_label(wait.rule_id, wait.factor)
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


def distance_chart(inputs: DigestInputs) -> tuple[list[WeekBar], str]:
    """The weekly-distance bars for the chart's weeks, and the chart's alt text."""
    week = inputs.week_start
    chart_weeks = [week - dt.timedelta(weeks=CHART_WEEKS - 1 - i) for i in range(CHART_WEEKS)]
    spike_weeks = {
        f["week_start"] for f in inputs.flags if f["rule_id"] == "distance.single_run_spike" and f["severity"] != "info"
    }
    bars = [
        WeekBar(w, num(inputs.weeks.get(w, {}).get("distance_km")) or 0.0, spike=w in spike_weeks, current=w == week)
        for w in chart_weeks
    ]
    earlier = [b.distance_km for b in bars[:-1]]
    spikes = [week_label(b.week_start) for b in bars if b.spike]
    alt = (
        f"Bar chart of your weekly running distance for the {CHART_WEEKS} weeks to the week of {week_label(week)}: "
        f"this week {fmt_km(bars[-1].distance_km)}, the {CHART_WEEKS - 1} weeks before averaged "
        f"{fmt_km(sum(earlier) / len(earlier))}, highest {fmt_km(max(b.distance_km for b in bars))}. "
        + (
            f"Long-run spikes are marked in the weeks of {', '.join(spikes)}."
            if spikes
            else "No long-run spikes in these weeks."
        )
    )
    return bars, alt


def shoe_state(shoe: dict[str, Any], km: float, watch: float | None, warning: float | None) -> str:
    if shoe.get("missing"):  # Strava answered 404: its own total is unknown, only our runs in it
        return "not found on Strava, so its total is unknown; this is only the runs logged here"
    if shoe.get("retired"):
        return "retired"
    if warning is not None and km >= warning:
        return f"past the {fmt_km(warning)} replacement mark"
    if watch is not None and km >= watch:
        return f"past the {fmt_km(watch)} check mark"
    return "fine"


def shoe_lines(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every pair of shoes with its distance, marks and state."""
    shoes = []
    for shoe in rows:
        name = " ".join(str(shoe.get("name") or "").split()) or " ".join(
            str(p) for p in (shoe.get("brand_name"), shoe.get("model_name")) if p
        )
        km = num(shoe.get("distance_km")) or 0.0
        watch, warning = num(shoe.get("watch_km")), num(shoe.get("warning_km"))
        first = as_date(shoe.get("first_run_date"))
        shoes.append(
            {
                "name": name or "Unnamed shoe",
                "km": km,
                "distance": fmt_km(km),
                "state": shoe_state(shoe, km, watch, warning),
                "since": f"{first.day} {first:%b %Y}" if first else None,
                "runs_12w": int(num(shoe.get("runs_12w")) or 0),
                "retired": bool(shoe.get("retired")),
                "missing": bool(shoe.get("missing")),
                "watch_km": watch,
                "warning_km": warning,
            }
        )
    return shoes


def shoes_alt(active_shoes: list[dict[str, Any]]) -> str:
    """The chart measures pairs against the replacement marks: a shoe of unknown total has no bar."""
    return (
        "Bar chart of kilometres per pair of shoes against the replacement marks: "
        + "; ".join(f"{s['name']} {s['distance']} ({s['state']})" for s in active_shoes)
        + "."
    )
