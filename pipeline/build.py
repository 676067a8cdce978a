"""`backstride build`: ingest pending landing batches (validated), then build the SQL models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.config import Settings
from pipeline.loading import IngestReport, ingest_pending
from pipeline.warehouse import writer


@dataclass
class BuildResult:
    ingest: IngestReport
    models: Any


def run_build(settings: Settings, as_of: date | None = None) -> BuildResult:
    """Validate and merge what sync landed, then rebuild every model, under one write lock."""
    from pipeline.models import build_models

    with writer(settings) as con:
        ingest = ingest_pending(con)
        models = build_models(con, as_of=as_of)
    return BuildResult(ingest, models)
