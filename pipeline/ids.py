"""Increasing 64-bit ids without a sequence (DuckLake has none), unique across processes.

An id is `milliseconds since 2020 << 22 | process slot << 12 | counter`: ids grow with time
(so "the newest landing row of an object" is still the largest id), a process draws up to
4,096 per millisecond (borrowing later milliseconds when it needs more), and two processes
drawing in the same millisecond differ by their slot (the process id modulo 1,024). Two ids can
only collide if two processes whose ids agree modulo 1,024 draw in the same millisecond.
"""

from __future__ import annotations

import os
import threading
import time

EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
_SLOT_BITS = 10
_COUNTER_BITS = 12
_lock = threading.Lock()
_last = 0


def ordered_ids(n: int) -> list[int]:
    """`n` increasing ids, each larger than any this process drew before."""
    global _last
    if n <= 0:
        return []
    slot = os.getpid() % (1 << _SLOT_BITS)
    per_ms = 1 << _COUNTER_BITS
    with _lock:
        now_ms = int(time.time() * 1000) - EPOCH_MS
        last_ms, last_counter = _last >> (_SLOT_BITS + _COUNTER_BITS), _last & (per_ms - 1)
        if now_ms > last_ms:
            ms, counter = now_ms, 0
        else:
            ms, counter = last_ms, last_counter + 1
        ids: list[int] = []
        for _ in range(n):
            if counter >= per_ms:
                ms, counter = ms + 1, 0
            ids.append((ms << (_SLOT_BITS + _COUNTER_BITS)) | (slot << _COUNTER_BITS) | counter)
            counter += 1
        _last = ids[-1]
    return ids
