"""Each table's key: the columns no two rows may share.

DuckLake enforces no primary or unique keys, so the keys the single-file warehouse declared
live here. The merge logic (`MERGE INTO ... ON` these columns, or delete-then-insert of
them in one transaction) keeps them, and `tests/warehouse/test_table_keys.py` checks every
table for duplicates after re-runs, kills and concurrent writers.
"""

from __future__ import annotations

TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "schema_version": ("version",),
    "landing": ("landing_id",),
    "athletes": ("athlete_id",),
    "activities": ("activity_id",),
    "splits": ("activity_id", "split"),
    "gear": ("gear_id",),
    "stream_features": ("activity_id",),
    "sync_state": ("athlete_id",),
    "fetch_queue": ("activity_id", "kind"),
    "deleted_activities": ("activity_id",),
    "ingest_log": ("batch_id",),
    "quarantine": ("table_name", "record_key", "batch_id"),
    "validation_runs": ("run_id",),
    "digest_log": ("athlete_id", "week_start"),
    "webhook_events": ("dedupe_key",),
    "rule_threshold_overrides": ("athlete_id", "rule_id", "param"),
    "build_log": ("build_id",),
    "upgrade_log": ("source",),
}


def key_of(table: str) -> tuple[str, ...]:
    try:
        return TABLE_KEYS[table]
    except KeyError:
        raise KeyError(f"{table} has no key in pipeline.table_keys.TABLE_KEYS") from None
