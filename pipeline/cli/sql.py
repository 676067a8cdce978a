"""`backstride sql`: one read-only query on the warehouse, as a table, CSV or JSON."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from pipeline.cli.app import app, err, fail, print_rows, settings


@app.command("sql")
def sql_command(
    query: Annotated[str, typer.Argument(help='One read-only query, e.g. "select * from weekly_load limit 5".')],
    format: Annotated[str, typer.Option("--format", "-f", help="table, csv or json (an array of objects).")] = "table",
    snapshot: Annotated[
        Optional[int],
        typer.Option(
            "--snapshot",
            help="Read the warehouse as it was at this lake snapshot (e.g. digest_log.snapshot_id).",
            min=0,
        ),
    ] = None,
) -> None:
    """Run a read-only SQL query on the warehouse (writes are refused).

    Works while the pipeline runs: it reads the last committed snapshot (or `--snapshot N`).
    """
    from pipeline.query import QueryRefused, run_query, to_csv, to_json
    from pipeline.warehouse import WarehouseBusy

    if format not in ("table", "csv", "json"):
        fail("--format must be table, csv or json")
    s = settings()
    try:
        result = run_query(s, query, snapshot=snapshot)
    except (QueryRefused, WarehouseBusy, FileNotFoundError) as e:
        fail(str(e))
    except Exception as e:  # a DuckDB error in the user's query
        fail(f"{type(e).__name__}: {e}")
    if format == "json":
        sys.stdout.write(to_json(result) + "\n")
    elif format == "csv":
        sys.stdout.write(to_csv(result))
    else:
        print_rows(result.columns, result.rows)
        err.print(f"{len(result.rows)} rows", style="dim")
