"""OAuth state: authorization codes, refresh tokens and access grants (a part of `StubServer`)."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.strava_stub.demo_data import World


@dataclass
class _Grant:
    athlete_id: int
    expires_at: int


class TokensMixin:
    """Codes, refresh tokens and access tokens of the world's athletes; rotation and revocation."""

    world: World
    clock: Callable[[], float]
    rotate_refresh_tokens: bool
    access_token_ttl_s: int
    _lock: threading.RLock

    def _init_tokens(self) -> None:
        with self._lock:
            self._refresh: dict[str, int] = {a.refresh_token: a.athlete_id for a in self.world.athletes.values()}
            self._codes: dict[str, int] = {a.auth_code: a.athlete_id for a in self.world.athletes.values()}
            self._access: dict[str, _Grant] = {}

    def _issue(self, athlete_id: int, old_refresh: str | None) -> dict[str, Any]:
        now = int(self.clock())
        access = secrets.token_hex(20)
        self._access[access] = _Grant(athlete_id, now + self.access_token_ttl_s)
        if old_refresh is not None and not self.rotate_refresh_tokens:
            refresh = old_refresh
        else:
            if old_refresh is not None:
                self._refresh.pop(old_refresh, None)
            refresh = secrets.token_hex(20)
            self._refresh[refresh] = athlete_id
        return {
            "token_type": "Bearer",
            "access_token": access,
            "expires_at": now + self.access_token_ttl_s,
            "expires_in": self.access_token_ttl_s,
            "refresh_token": refresh,
        }

    def issue_tokens(self, athlete_id: int) -> dict[str, Any]:
        """Tokens for an athlete without the OAuth dance (test setup)."""
        with self._lock:
            return self._issue(athlete_id, None)

    def revoke(self, token_or_athlete: str | int) -> None:
        """Simulate a revoked authorization: an athlete id revokes all of their tokens,
        a string revokes that refresh (or access) token only. A new code exchange works again."""
        with self._lock:
            if isinstance(token_or_athlete, int):
                aid = token_or_athlete
                self._refresh = {t: a for t, a in self._refresh.items() if a != aid}
                self._access = {t: g for t, g in self._access.items() if g.athlete_id != aid}
            else:
                self._refresh.pop(token_or_athlete, None)
                self._access.pop(token_or_athlete, None)

    def expire_access_tokens(self, athlete_id: int | None = None) -> None:
        """Make current access tokens expired (all, or one athlete's)."""
        with self._lock:
            now = int(self.clock())
            for grant in self._access.values():
                if athlete_id is None or grant.athlete_id == athlete_id:
                    grant.expires_at = now - 1

    def refresh_token_of(self, athlete_id: int) -> str | None:
        """The currently valid refresh token of an athlete (tests only)."""
        with self._lock:
            tokens = [t for t, a in self._refresh.items() if a == athlete_id]
            return tokens[-1] if tokens else None

    def _athlete_for_access(self, token: str) -> int | None:
        with self._lock:
            grant = self._access.get(token)
            if grant is None or grant.expires_at <= self.clock():
                return None
            return grant.athlete_id
