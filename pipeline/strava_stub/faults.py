"""Injected misbehaviour: what a `Fault` is, and the stub's list of them."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "slow", "malformed", "truncated", "rate_limit", "disconnect", "response")
# Kinds that answer before the request reaches the application: no token rotates, nothing changes.
EARLY_KINDS = ("status", "rate_limit", "disconnect", "response")
# Kinds that replace a real (successful) answer's body.
BODY_KINDS = ("malformed", "truncated")


@dataclass
class Fault:
    """One injected misbehaviour.

    kind: "status" (answer `status`), "slow" (sleep `delay_s`, then answer normally),
    "malformed" (200 with a body that is not JSON), "truncated" (200 with the real JSON cut
    in half), "rate_limit" (429 with Strava's body and exhausted usage headers),
    "disconnect" (close the connection without answering), "response" (answer `status` with
    `body` as the raw text and exactly `headers`, e.g. a recorded Strava answer; `headers`
    None sends the stub's rate-limit headers).
    It skips the first `after` matching requests, then fires on the next `count` matching
    requests (None: until cleared), each with `probability` (seeded, deterministic).
    `path` is a regex searched in the request path (no query string); None matches every
    /api/v3 and /oauth request.
    """

    kind: str
    count: int | None = 1
    after: int = 0
    probability: float = 1.0
    path: str | None = None
    status: int = 500
    delay_s: float = 0.0
    body: str | None = None
    headers: dict[str, str] | None = None
    seed: int = 0
    fired: int = 0
    seen: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        self._rng = random.Random(self.seed)
        self._pattern = re.compile(self.path) if self.path else None

    def matches(self, path: str) -> bool:
        return self._pattern is None or self._pattern.search(path) is not None

    @property
    def spent(self) -> bool:
        return self.count is not None and self.fired >= self.count

    def fire(self) -> bool:
        """Called for each matching request: should this one misbehave?"""
        self.seen += 1
        if self.seen <= self.after or self.spent:
            return False
        if self.probability < 1.0 and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    def describe(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("_rng", None)
        return out

    def spoil(self, body: bytes) -> bytes:
        """A malformed (an HTML error page) or truncated (half) version of a JSON body."""
        if self.kind == "malformed":
            return b"<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>"
        return body[: max(1, len(body) // 2)]


class FaultsMixin:
    """The stub's injected faults (a part of `StubServer`)."""

    _lock: threading.RLock
    _faults: list[Fault]
    _stats: dict[str, Any]

    def inject(self, kind: str, **options: Any) -> Fault:
        """Add a fault (see `Fault`), e.g. inject("status", status=503, count=2) or
        inject("rate_limit", after=3, count=None, path="/athlete/activities")."""
        fault = Fault(kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def _pick_fault(self, path: str) -> Fault | None:
        with self._lock:
            chosen = None
            for fault in self._faults:
                if fault.matches(path) and fault.fire() and chosen is None:
                    chosen = fault
            if chosen is not None:
                self._stats["faults_fired"][chosen.kind] += 1
            return chosen
