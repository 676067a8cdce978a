"""Token files: one owner-only JSON file per athlete, replaced whole, nothing left beside it."""

from __future__ import annotations

import json
import stat

from pipeline.config import Settings
from pipeline.tokens import Tokens, load_tokens, save_tokens


def test_saving_twice_leaves_one_owner_only_file_with_the_newest_tokens(tmp_path):
    settings = Settings(home=tmp_path)
    save_tokens(settings, 7, Tokens("access-1", "refresh-1", 100))
    save_tokens(settings, 7, Tokens("access-2", "refresh-2", 200))

    directory = settings.secrets_dir / "tokens"
    files = sorted(p.name for p in directory.iterdir())
    path = directory / "7.json"
    assert files == ["7.json"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"access_token": "access-2", "refresh_token": "refresh-2", "expires_at": 200}
    assert load_tokens(settings, 7) == Tokens("access-2", "refresh-2", 200)
