"""Numbers as a runner reads them: kilometres, durations, and values that may be missing."""

from __future__ import annotations

from typing import Any


def num(value: Any) -> float | None:
    """A float, or None for missing, non-numeric and NaN values."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN


def fmt_km(value: float | None) -> str:
    if value is None:
        return "0 km"
    return f"{value:,.0f} km" if value >= 100 else f"{value:.1f} km"


def fmt_duration(seconds: float | None) -> str:
    minutes = round((seconds or 0) / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
