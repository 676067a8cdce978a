"""The one error validation raises: the batch as a whole cannot be judged."""

from __future__ import annotations


class BatchValidationError(RuntimeError):
    """The batch as a whole is unusable (schema drift, a broken suite); names suite and expectation."""
