"""The one list of run sport types: the `run` rows of the activity_categories seed.

Sync (the run lookback), the loader and the validation suites (named set `run_sport_types`)
all read it from `sql/seeds/activity_categories.csv`, the same seed the SQL models use.
"""

from __future__ import annotations

import csv
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent.parent / "sql" / "seeds"
CATEGORIES_SEED = "activity_categories.csv"


def sport_types(category: str, seeds_dir: Path | None = None) -> tuple[str, ...]:
    """The sport types the seed puts in `category` (match_on = sport_type), in seed order."""
    with ((seeds_dir or SEEDS_DIR) / CATEGORIES_SEED).open(newline="") as seed:
        rows = csv.DictReader(seed)
        found = [r["value"] for r in rows if r["category"] == category and r["match_on"] == "sport_type"]
    return tuple(dict.fromkeys(found))


def run_sport_types(seeds_dir: Path | None = None) -> tuple[str, ...]:
    """The sport types that count as runs (Run, TrailRun, VirtualRun in the shipped seed)."""
    return sport_types("run", seeds_dir)
