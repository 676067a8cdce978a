"""The words for what the digest could not see: each gap's sentence and the factors it blinds.

`pipeline.digest.data_gaps` reads the gaps from the warehouse; this module only words them.
"""

from __future__ import annotations

ALL_FACTORS = ("injury", "distance", "shoes", "posture", "strength", "preparation", "surface")

# Which factors each kind of gap keeps from being judged, with what part of the check it blinds.
GAP_FACTORS: dict[str, dict[str, str]] = {
    "pending_streams": {"posture": "cadence and form late in long runs"},
    "pending_details": {
        "preparation": "warm-ups and cool-downs (kilometre splits)",
        "injury": "pain notes in descriptions",
    },
    "pending_profile": {"shoes": "shoe mileage and age"},
    "pending_gear": {"shoes": "shoe mileage and age"},
    "quarantine_week": {f: "activities of this week left out" for f in ALL_FACTORS},
    "quarantine_earlier": {
        "distance": "comparisons with recent weeks",
        "strength": "strength sessions of recent weeks",
        "surface": "surfaces of recent weeks",
        "preparation": "warm-ups of recent weeks",
        "injury": "pain notes and breaks of recent weeks",
    },
    "quarantine_splits": {"preparation": "warm-ups and cool-downs (kilometre splits)"},
    "quarantine_streams": {"posture": "form late in long runs"},
    "quarantine_gear": {"shoes": "shoe mileage and age"},
    # a record of unknown kind (e.g. an activity summary too broken to read) could be any of them
    "quarantine_other": {f: "records of these weeks backstride could not read" for f in ALL_FACTORS},
    "missing_gear": {"shoes": "mileage and age of a shoe Strava could not find"},
}


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def gap_text(key: str, n: int) -> str:
    """The runner-facing sentence for a gap (plain words: what is missing and what follows)."""
    it, its, was = ("it", "its", "was") if n == 1 else ("them", "their", "were")
    is_ = "is" if n == 1 else "are"
    texts = {
        "pending_streams": f"{_n(n, 'run', 'runs')} of this week {is_} still waiting for {its} streams from "
        "Strava (cadence and pace second by second); they follow with the next sync.",
        "pending_details": f"{_n(n, 'run', 'runs')} of this week or the four weeks before {is_} still waiting "
        f"for {its} details from Strava (kilometre splits and description); they follow with the next sync.",
        "pending_profile": "Your profile, with your shoes' running totals, is still being fetched from Strava.",
        "pending_gear": f"{_n(n, 'of the shoes', 'of the shoes')} on your runs {is_} still being fetched from Strava.",
        "quarantine_week": f"{_n(n, 'of your activities', 'of your activities')} from this week had values "
        f"backstride could not check (for example a missing or impossible number) and {was} left out of these "
        f"figures. Correcting {it} on Strava brings {it} back in the next digest.",
        "quarantine_earlier": f"{_n(n, 'of your activities', 'of your activities')} from the four weeks before "
        f"had values backstride could not check and {was} left out, so the comparisons with recent weeks do not "
        f"include {it}.",
        "quarantine_splits": f"The kilometre splits of {_n(n, 'run', 'runs')} had values backstride could not "
        f"check and {was} left out.",
        "quarantine_streams": f"The streams of {_n(n, 'run', 'runs')} had values backstride could not check "
        f"and {was} left out.",
        "quarantine_gear": f"{_n(n, 'of your shoes', 'of your shoes')} had values backstride could not check "
        f"and {was} left out.",
        "quarantine_other": f"{_n(n, 'other record', 'other records')} of yours had values backstride could not "
        f"check and {was} left out.",
        "missing_gear": f"Strava could not find {_n(n, 'of the shoes', 'of the shoes')} on your recent runs "
        f"(deleted, or not shared), so {its} kilometres count towards no pair.",
    }
    return texts[key]


def days_words(days: int) -> str:
    if days % 7 == 0:
        weeks = days // 7
        return f"{weeks} week" if weeks == 1 else f"{weeks} weeks"
    return f"{days} day" if days == 1 else f"{days} days"
