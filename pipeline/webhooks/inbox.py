"""The durable inbox: received events as fsync'd JSONL lines, waiting to be processed.

The receiver appends here (it never needs the warehouse write lock) and answers Strava only
once its event is on disk; `process_inbox` claims whole files and deletes them only after
their events are recorded as processed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pipeline.files import file_lock, fsync_directory
from pipeline.webhooks.events import WebhookEvent, parse_event


class Inbox:
    """Append-only JSONL of received events, fsync'd before the receiver answers.

    Writers and the processor share `inbox.lock` (flock). The processor claims the current
    file by renaming it to `pending-*.jsonl` under the lock, so appends never race a claim,
    and deletes a pending file only after its events are recorded as processed.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "events.jsonl"
        self.lock_path = directory / "inbox.lock"
        self.process_lock_path = directory / "process.lock"

    @contextlib.contextmanager
    def _locked(self, lock_path: Path) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with file_lock(lock_path):
            yield

    def append(self, events: Iterable[dict[str, Any]]) -> None:
        """Write events as lines and fsync; returns only once they are on disk."""
        data = "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events).encode()
        if not data:
            return
        with self._locked(self.lock_path):
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:  # a regular file rarely takes less than all, but it may
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                fsync_directory(self.directory)

    def pending_files(self) -> list[Path]:
        return sorted(self.directory.glob("pending-*.jsonl")) if self.directory.exists() else []

    def has_events(self) -> bool:
        """Cheap check for the DAG: is anything waiting? (no warehouse access)"""
        return bool(self.pending_files()) or (self.path.exists() and self.path.stat().st_size > 0)

    def claim(self) -> list[Path]:
        """Move the current file aside for processing; return every unprocessed file, oldest first."""
        with self._locked(self.lock_path):
            if self.path.exists() and self.path.stat().st_size > 0:
                os.replace(self.path, self.directory / f"pending-{time.time_ns():020d}-{os.getpid()}.jsonl")
                fsync_directory(self.directory)
        return self.pending_files()

    @contextlib.contextmanager
    def processing(self) -> Iterator[None]:
        """One processor at a time (a second one waits)."""
        with self._locked(self.process_lock_path):
            yield


def read_inbox_files(files: Iterable[Path]) -> tuple[list[tuple[WebhookEvent, int]], int]:
    """Events (with their retry count) in arrival order, and the number of unreadable lines."""
    events: list[tuple[WebhookEvent, int]] = []
    bad = 0
    for path in files:
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                attempts = int(raw.pop("_attempts", 0)) if isinstance(raw, dict) else 0
                events.append((parse_event(raw), attempts))
            except (ValueError, TypeError):
                bad += 1  # a torn last line after a crash: the sender got no 200 and retries
    return events, bad
