"""Files that are never half-written and locks that die with their process.

`atomic_write` writes beside the target, fsyncs and renames over it, so a reader (or a crash)
sees the old file or the new one, never a mix. `file_lock` is an exclusive `flock`: the kernel
releases it when the process exits, so a killed writer never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class LockBusy(RuntimeError):
    """Another process held the lock for longer than the caller was willing to wait."""


def atomic_write(path: Path, data: bytes | str, mode: int = 0o600, fsync_dir: bool = False) -> None:
    """Replace `path` with `data` in one step (a temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync_dir:
        fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def file_lock(
    path: Path,
    wait_s: float | None = None,
    busy_message: str = "the lock is held by another process",
    poll_s: float = 0.2,
) -> Iterator[None]:
    """Hold an exclusive flock on `path`; wait forever (`wait_s=None`) or raise LockBusy after `wait_s`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if wait_s is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockBusy(busy_message) from None
                    time.sleep(poll_s)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock
