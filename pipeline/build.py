"""`backstride build`: ingest pending landing batches (validated), then build the SQL models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pipeline.config import Settings
from pipeline.files import file_lock
from pipeline.loading import IngestReport, ingest_pending
from pipeline.warehouse import writer


@dataclass
class BuildResult:
    ingest: IngestReport
    models: Any  # pipeline.models.BuildReport

    def summary(self) -> str:
        i = self.ingest
        ingested = (
            f"ingested {i.batches} new batches: {sum(i.rows_merged.values())} rows merged, {i.quarantined} quarantined"
            if i.batches
            else "nothing new to ingest"
        )
        if i.released:
            ingested += f", {i.released} released from quarantine"
        m = self.models
        marts = ", ".join(f"{k} {v}" for k, v in sorted(getattr(m, "rows", {}).items()))
        return f"{ingested}; built {len(m.models)} models in {m.duration_s:.1f} s ({marts})"


def run_build(settings: Settings, as_of: date | None = None) -> BuildResult:
    """Validate and merge what sync landed, then rebuild every model (one snapshot: all marts or none)."""
    from pipeline.build_log import record_build
    from pipeline.loading import merge_frame
    from pipeline.models import build_models
    from pipeline.validation import retry_quarantine

    started_at = datetime.now(UTC)
    # Two builds at once would replace the same marts and one would fail on DuckLake's write
    # conflict after doing all its work: the second waits for the first instead.
    with (
        file_lock(settings.locks_dir / "build.lock", 600.0, "another `backstride build` is running; try again later"),
        writer(settings) as con,
    ):
        ingest = ingest_pending(con)
        # rows held back only because a related row was missing (splits waiting for their
        # activity, a run waiting for its shoe) are released once it has arrived
        released = retry_quarantine(con, merge_frame)
        ingest.released = sum(released.values())
        models = build_models(con, as_of=as_of)
        record_build(con, started_at, models.as_of, len(models.models), batches_ingested=ingest.batches)
    return BuildResult(ingest, models)
