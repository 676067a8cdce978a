"""The Great Expectations engine: imported lazily, once, with one ephemeral context per process.

Great Expectations takes about 14 s to import, and DAG files and the CLI import this package at
parse time: GX is imported only when a batch is actually validated.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Engine:
    gx: Any
    batch_definition: Any
    suites: dict[tuple[str, str], Any] = field(default_factory=dict)  # (fingerprint, level) -> GX suite


_ENGINE: Engine | None = None


def quiet_gx_logging() -> None:
    """GX logs INFO lines on import (and sets one of its loggers to INFO); under Airflow's
    structlog they reach the console. Keep CLI output clean."""
    for name in ["great_expectations", *list(logging.root.manager.loggerDict)]:
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)


def engine() -> Engine:
    """One ephemeral GX context per process, with a pandas datasource for whole DataFrames."""
    global _ENGINE
    if _ENGINE is None:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"  # GX reads it at import time
        quiet_gx_logging()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        quiet_gx_logging()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        asset = context.data_sources.add_pandas("backstride").add_dataframe_asset("frames")
        _ENGINE = Engine(gx=gx, batch_definition=asset.add_batch_definition_whole_dataframe("whole"))
    return _ENGINE
