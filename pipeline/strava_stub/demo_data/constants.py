"""What the demo athletes are built from: ids, zones, the rule catalogue, Strava's key sets."""

from __future__ import annotations

from typing import Any

DEMO_CLIENT_ID = 90210
DEMO_CLIENT_SECRET = "demo-client-secret"
PERSONA_ZONES = {
    "steady": "Europe/London",
    "spiker": "America/New_York",
    "fader": "Australia/Sydney",
    "niggle": "Europe/Berlin",
}

FACTORS = ("shoes", "posture", "surface", "distance", "preparation", "strength", "injury")
RULE_IDS = frozenset(
    {
        "distance.single_run_spike",
        "distance.weekly_change",
        "distance.recovery_after_big_run",
        "distance.monotony",
        "shoes.mileage",
        "shoes.age",
        "shoes.rotation",
        "shoes.unknown_gear",
        "posture.cadence",
        "posture.form_fading",
        "surface.no_soft_surface",
        "preparation.warmup",
        "strength.no_strength_14d",
        "strength.low_frequency",
        "injury.pain_notes",
        "injury.return_after_break",
    }
)
PAIN_WORDS = ("back", "pain", "sore", "hurt", "injury", "physio", "twinge", "stiff")
DUPLICATE_PAGE_INDEX = 199  # the duplicate's place in the oldest-first list of its athlete
SOFT_SURFACE_WORDS = ("trail", "grass", "track")
RUN_SPORTS = frozenset({"Run", "TrailRun", "VirtualRun"})
STRENGTH_SPORTS = frozenset({"WeightTraining", "Crossfit", "Pilates", "Yoga"})
# a Workout (Strava's catch-all) is strength work only when its text says so (evidence.md)
STRENGTH_WORKOUT_WORDS = ("strength", "core", "gym", "weights", "circuit", "bodyweight", "kettlebell")
DEFAULT_STREAM_KEYS = ("time", "distance", "velocity_smooth", "heartrate", "cadence", "altitude")
ALL_STREAM_KEYS = (*DEFAULT_STREAM_KEYS, "latlng", "moving", "grade_smooth")

# Keys of DetailedActivity that SummaryActivity (the list endpoint) does not carry.
DETAIL_ONLY_KEYS = frozenset(
    {
        "description",
        "splits_metric",
        "splits_standard",
        "laps",
        "segment_efforts",
        "best_efforts",
        "gear",
        "calories",
        "device_name",
        "embed_token",
        "photos",
        "perceived_exertion",
        "prefer_perceived_exertion",
    }
)


def summary_of(activity: dict[str, Any]) -> dict[str, Any]:
    """SummaryActivity JSON (what the list endpoint returns) from a DetailedActivity."""
    out = {k: v for k, v in activity.items() if k not in DETAIL_ONLY_KEYS}
    out["resource_state"] = 2
    return out


def legacy_type(sport_type: str) -> str:
    return {"TrailRun": "Run"}.get(sport_type, sport_type)
