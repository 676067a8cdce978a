"""Strava tokens, kept outside the warehouse in owner-only files.

One JSON file per athlete under `$BACKSTRIDE_HOME/secrets/tokens/`, mode 0600 in a 0700
directory, written atomically so a crash never leaves half a token. Ad-hoc SQL users cannot
read them, and nothing here ever logs a token.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Settings
from pipeline.files import atomic_write


@dataclass(frozen=True)
class Tokens:
    access_token: str | None
    refresh_token: str
    expires_at: int  # epoch seconds; 0 = unknown, refresh before use

    def __repr__(self) -> str:  # never show a token in a traceback or log
        return f"Tokens(expires_at={self.expires_at}, access_token=***, refresh_token=***)"

    __str__ = __repr__


def tokens_dir(settings: Settings) -> Path:
    path = settings.secrets_dir / "tokens"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(settings.secrets_dir, 0o700)
    os.chmod(path, 0o700)
    return path


def _path(settings: Settings, athlete_id: int) -> Path:
    return tokens_dir(settings) / f"{int(athlete_id)}.json"


def save_tokens(settings: Settings, athlete_id: int, tokens: Tokens) -> None:
    """Write atomically with mode 0600 (temp file in the same directory, then rename).

    The directory is fsynced too: Strava's refresh tokens are single-use, so a refresh whose
    rename were lost would leave only a spent token behind.
    """
    body = json.dumps(
        {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "expires_at": int(tokens.expires_at),
        }
    )
    atomic_write(_path(settings, athlete_id), body, mode=0o600, fsync_dir=True)


def load_tokens(settings: Settings, athlete_id: int) -> Tokens | None:
    path = _path(settings, athlete_id)
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return Tokens(
        access_token=data.get("access_token"),
        refresh_token=data["refresh_token"],
        expires_at=int(data.get("expires_at") or 0),
    )


def delete_tokens(settings: Settings, athlete_id: int) -> bool:
    path = _path(settings, athlete_id)
    if path.exists():
        path.unlink()
        return True
    return False


def known_secrets(settings: Settings) -> list[str]:
    """Every secret value currently held (for redaction of error text)."""
    values = [settings.client_secret or ""]
    directory = settings.secrets_dir / "tokens"
    if directory.exists():
        for path in directory.glob("*.json"):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            values += [data.get("access_token") or "", data.get("refresh_token") or ""]
    return [v for v in values if len(v) >= 6]


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def redact_secrets(settings: Settings, text: str) -> str:
    """`text` with every secret currently held replaced by ***."""
    return redact(text, known_secrets(settings))
