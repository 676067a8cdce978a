"""The onboarding simulation behind BENCHMARKS.md and the README still runs and still holds.

`bench/bench_onboarding.py` is the figure a coach reads ("what to expect when onboarding a
squad"); this runs it small (3 athletes, 4 weeks, under the default quota with the simulated
clock) so it cannot rot unnoticed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_onboarding.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_onboarding", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_onboarding"] = module
    spec.loader.exec_module(module)
    return module


def test_a_small_squad_onboards_at_the_quota_s_lower_bound_with_no_wasted_request():
    result = load_bench().simulate(3, 4, 90, 9)

    assert result["requests_needed_lookback"] > 100  # more than one 15-minute window's worth
    assert result["last_week_hours_max"] is not None and result["lookback_hours_max"] is not None
    assert result["requests_made"] <= result["requests_needed_lookback"] * 1.05
    assert result["ratio_last_week_max_to_bound"] <= 1.5
    assert result["ratio_lookback_max_to_bound"] <= 1.5
