"""`backstride status`: what an operator checks first, read without the write lock."""

from __future__ import annotations

from pipeline.cli.app import app, out, settings


@app.command()
def status() -> None:
    """Schema version, warehouse path and size, athletes, activities, last sync and build, quarantine, pending events."""
    from pipeline.status import collect_status, format_status

    out.print(format_status(collect_status(settings())), highlight=False, markup=False)
