"""
### warehouse_maintenance: keep the lake compact, daily

Merges the small Parquet files every commit leaves (webhook events write one or two rows
at a time), expires snapshots older than the retention (7 days: the window in which
`backstride sql --snapshot N` can show what an old digest saw) and deletes the data files
no snapshot needs any more. The same as `backstride maintain`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task
from backstride_common import DEFAULT_ARGS, START_DATE


@dag(
    schedule="@daily",
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["backstride", "warehouse", "maintenance"],
)
def warehouse_maintenance() -> None:
    @task
    def maintain() -> dict[str, Any]:
        """
        #### Maintain the lake
        Flush inlined rows, merge small files, expire old snapshots, clean up files.
        """
        from backstride_common import backstride_settings

        from pipeline.maintenance import maintain as run_maintenance

        report = run_maintenance(backstride_settings())
        return {
            "files": [report.files_before, report.files_after],
            "snapshots": [report.snapshots_before, report.snapshots_after],
            "bytes": [report.bytes_before, report.bytes_after],
        }

    maintain()


warehouse_maintenance()
