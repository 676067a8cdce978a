"""`docs/evidence.md` follows the product's science, `../shared/evidence.md`, word for word.

The shared file is the source (rules, thresholds, grades, wording); the project keeps a copy so
a reader of the repository has it. When the source changes, the copy must change with it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "evidence.md"


def test_docs_evidence_is_the_shared_evidence_word_for_word() -> None:
    if not SHARED.exists():
        pytest.skip(f"{SHARED} not found (../shared/evidence.md from the project root)")
    assert (ROOT / "docs" / "evidence.md").read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8"), (
        "docs/evidence.md has drifted from ../shared/evidence.md: copy the shared file over it and "
        "follow any rule change in sql/ and the seeds"
    )
