"""
### warehouse_build: validate new data, then rebuild the risk models

Scheduled on the `warehouse_activities` asset (after `strava_sync` or `strava_events`).
First the landed batches not yet ingested are validated with Great Expectations (failing rows
go to `quarantine`, see `validation_runs`), then every SQL model is rebuilt. Updates the
`warehouse_models` asset.

One writer at a time: both tasks run in the `duckdb_writer` pool (1 slot) and take the
warehouse's write lock; readers (`backstride sql`, a DuckDB shell) keep working on the
read replica published after each write.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task
from backstride_common import ACTIVITIES, DEFAULT_ARGS, MODELS, START_DATE, WRITER_POOL


@dag(
    schedule=[ACTIVITIES],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["backstride", "warehouse", "validation"],
)
def warehouse_build() -> None:
    @task(pool=WRITER_POOL)
    def validate() -> dict[str, Any]:
        """
        #### Validate and merge
        Great Expectations on every landed batch not ingested yet; passing rows are merged.
        """
        import os

        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        from backstride_common import backstride_settings

        from pipeline.loading import ingest_pending
        from pipeline.warehouse import writer

        with writer(backstride_settings()) as con:
            report = ingest_pending(con)
        return {"batches": report.batches, "rows_merged": report.rows_merged, "quarantined": report.quarantined}

    @task(pool=WRITER_POOL, outlets=[MODELS])
    def build_models() -> dict[str, Any]:
        """
        #### Build the models
        Staging, intermediate and mart models in dependency order.
        """
        import os

        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        from backstride_common import backstride_settings

        from pipeline.build import run_build

        result = run_build(backstride_settings())
        return {"as_of": str(result.models.as_of), "models": len(result.models.models), "rows": result.models.rows}

    validate() >> build_models()


warehouse_build()
