"""A runner's choice to get the weekly email or not (`backstride athletes set ID --digest on|off`)."""

from __future__ import annotations

from pipeline.config import Settings
from pipeline.warehouse import writer


def set_digest_enabled(settings: Settings, athlete_id: int, enabled: bool) -> None:
    """Turn an athlete's weekly email on or off."""
    with writer(settings) as con:
        changed = con.execute(
            "update athletes set digest_enabled = ? where athlete_id = ?", [enabled, athlete_id]
        ).fetchall()[0][0]
    if not changed:
        raise LookupError(f"no athlete {athlete_id} in the warehouse")
