"""Great Expectations suites built from a loaded suite file, and running one level of them.

Each suite's expectation objects are built once per suite content (its fingerprint), so a
process validating many batches pays for building them once.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.validation.engine import engine
from pipeline.validation.errors import BatchValidationError
from pipeline.validation.suite_files import Check, Suite


def gx_suite(suite: Suite, level: str) -> Any:
    """The GX suite for one level of a suite file, built once per file content."""
    gx_engine = engine()
    key = (suite.fingerprint, level)
    if key not in gx_engine.suites:
        expectations = [_expectation(suite, check) for check in suite.level(level)]
        gx_engine.suites[key] = gx_engine.gx.ExpectationSuite(name=f"{suite.name}.{level}", expectations=expectations)
    return gx_engine.suites[key]


def _expectation(suite: Suite, check: Check) -> Any:
    """The GX expectation object for one check; an unknown type or bad kwargs name the file."""
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    try:
        config = ExpectationConfiguration(type=check.type, kwargs=check.kwargs, meta={"name": check.name})
        return config.to_domain_obj()
    except Exception as e:  # unknown type, bad kwargs
        raise BatchValidationError(
            f"suite '{suite.name}': expectation {check.describe()} in {suite.path} is invalid: {e}"
        ) from None


def run_gx(suite: Suite, level: str, frame: pd.DataFrame) -> list[tuple[Check, Any]]:
    """Validate `frame` with one level of `suite`; returns (check, GX result) pairs in suite order."""
    level_suite = gx_suite(suite, level)
    if not level_suite.expectations:
        return []
    batch = engine().batch_definition.get_batch(batch_parameters={"dataframe": frame})
    result = batch.validate(level_suite, result_format={"result_format": "COMPLETE"})
    checks = suite.level(level)
    by_name = {c.name: c for c in checks}
    order = {c.name: i for i, c in enumerate(checks)}
    pairs = [(by_name[r.expectation_config.meta["name"]], r) for r in result.results]
    return sorted(pairs, key=lambda pair: order[pair[0].name])  # GX does not keep suite order
