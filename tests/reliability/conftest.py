"""Fixtures for the fault-injection suite: a loopback SMTP server that counts deliveries,
and a recorder whose figures `bench/reliability_report.py` turns into RELIABILITY.md."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller


class CountingMailbox:
    """Accepts every message and remembers who got what; can drop the connection at DATA."""

    def __init__(self) -> None:
        self.messages: list = []
        self.drop_after: int | None = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.drop_after is not None and len(self.messages) >= self.drop_after:
                server.transport.close()
                return "421 closing"
            msg = message_from_bytes(envelope.content, policy=policy.default)
            self.messages.append((tuple(envelope.rcpt_tos), msg))
        return "250 OK"

    def per_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for rcpts, _ in self.messages:
            for r in rcpts:
                counts[r] = counts.get(r, 0) + 1
        return counts


class Smtp:
    def __init__(self, mailbox: CountingMailbox, port: int) -> None:
        self.mailbox, self.port = mailbox, port

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailbox = CountingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=5)
    controller.start()
    try:
        yield Smtp(mailbox, port)
    finally:
        controller.stop()


@pytest.fixture
def record(request) -> Iterator[dict]:
    """Figures a test wants in RELIABILITY.md (written when RELIABILITY_REPORT_DIR is set)."""
    figures: dict = {}
    yield figures
    directory = os.environ.get("RELIABILITY_REPORT_DIR")
    if directory and figures:
        path = Path(directory) / (request.node.name.replace("/", "_") + ".json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"test": request.node.nodeid, **figures}, default=str))
