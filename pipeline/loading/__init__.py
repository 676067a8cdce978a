"""Landing raw API payloads and deriving the typed tables from them.

Every payload is appended to `landing` as it came (identical re-fetches are skipped by hash),
so the typed tables can always be rebuilt. `ingest_pending` turns the landing batches not yet
ingested into typed rows with DuckDB's JSON functions (the queries in sql/derive), hands them
to validation and upserts the rows that pass by primary key.

- `landing`: `land` and `LandingItem`, storing any body DuckDB can hold
- `derive`: the typed frames of the pending batches; `streams`: stream summaries
- `problems`: what cannot become a row, quarantined with a reason
- `merge`: upserts by primary key; `ingest`: the whole step in one transaction
"""

from __future__ import annotations

from pipeline.loading.derive import derive_frames
from pipeline.loading.ingest import IngestReport, Validator, ingest_pending, pending_batches, rebuild_all
from pipeline.loading.landing import LandingItem, land, repair_json_text
from pipeline.loading.merge import PRIMARY_KEYS, TYPED_TABLES, merge_frame, table_columns
from pipeline.loading.problems import LANDING_QUARANTINE, landing_problems, quarantine_problems
from pipeline.loading.streams import summarise_streams
from pipeline.sport_types import run_sport_types
from pipeline.warehouse import INGEST_TABLES

# The sport types that count as runs, from the activity_categories seed (the one list).
RUN_TYPES: tuple[str, ...] = run_sport_types()

assert set(TYPED_TABLES) <= set(INGEST_TABLES)

__all__ = [
    "LANDING_QUARANTINE",
    "PRIMARY_KEYS",
    "RUN_TYPES",
    "TYPED_TABLES",
    "IngestReport",
    "LandingItem",
    "Validator",
    "derive_frames",
    "ingest_pending",
    "land",
    "landing_problems",
    "merge_frame",
    "pending_batches",
    "quarantine_problems",
    "rebuild_all",
    "repair_json_text",
    "summarise_streams",
    "table_columns",
]
