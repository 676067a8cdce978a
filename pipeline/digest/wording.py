"""The digest's words: the seven factors, severity and evidence grades, and each rule's label.

Wording follows shared/evidence.md "How to word it". The reasons and figures a runner reads
come from one place, the models' flag `message` (built from the athlete's own rule
parameters); this module only names things, so no number here can disagree with a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# What a rule is called in subjects and headings. Its reasons are in the flag's message.
RULE_LABELS: dict[str, str] = {
    "distance.single_run_spike": "long-run spike",
    "distance.weekly_change": "big change in weekly distance",
    "distance.recovery_after_big_run": "little recovery after a big run",
    "distance.monotony": "same load every day",
    "shoes.mileage": "worn shoes",
    "shoes.age": "old shoes",
    "shoes.rotation": "one pair of shoes",
    "shoes.unknown_gear": "runs without shoes logged",
    "posture.cadence": "low cadence",
    "posture.form_fading": "form fading late in long runs",
    "surface.no_soft_surface": "only hard surfaces",
    "preparation.warmup": "few warm-ups",
    "strength.no_strength_14d": "no strength work logged",
    "strength.low_frequency": "little strength work",
    "injury.pain_notes": "pain noted",
    "injury.return_after_break": "return after a break",
}
# Shown only for a flag that arrives without a message (a model added without one): it names
# no figure of its own, and the rule catalogue's source follows it in the email.
FALLBACK_WHY = "This pattern is linked to higher injury risk in some studies; see the evidence grade below."


def rule_label(rule_id: str, factor: str) -> str:
    """The name of a rule; an unknown rule falls back to its factor, so new rules still read well."""
    if rule_id in RULE_LABELS:
        return RULE_LABELS[rule_id]
    return FACTOR_BY_KEY[factor].title.lower() if factor in FACTOR_BY_KEY else factor.replace("_", " ")


def severity_words(severity: str) -> str:
    return SEVERITY_WORDS.get(severity, severity)


def grade_words(evidence: str) -> str:
    return GRADE_WORDS.get(evidence, evidence.replace("_", " "))
