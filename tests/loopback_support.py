"""Real servers on 127.0.0.1 for tests: a free port, and an aiosmtpd SMTP server whose
mailbox keeps what it accepts and can refuse addresses, drop or hold connections."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """aiosmtpd handler: keeps every accepted message; can refuse addresses or drop connections."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.drop_after: int | None = None  # accept this many messages, then drop every connection at DATA
        self.hold_after: int | None = None  # accept this many, then keep the next DATA waiting ...
        self.holding = threading.Event()  # ... (set while it waits) ...
        self.release = threading.Event()  # ... until this is set, then answer 451 (not accepted)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "451 4.3.0 try again later"
        with self.lock:
            if self.drop_after is not None and len(self.messages) >= self.drop_after:
                server.transport.close()  # the connection dies before the server accepts
                return "421 closing"
            msg = message_from_bytes(envelope.content, policy=policy.default)
            msg["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
            self.messages.append(msg)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["X-Envelope-To"])]

    def per_recipient(self) -> dict[str, int]:
        """How many messages each envelope recipient got."""
        counts: dict[str, int] = {}
        for m in self.messages:
            for r in str(m["X-Envelope-To"]).split(", "):
                counts[r] = counts.get(r, 0) + 1
        return counts


@dataclass
class SmtpServer:
    mailbox: Mailbox
    port: int

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"


@contextmanager
def running_smtp(mailbox: Mailbox | None = None, **controller_options: Any) -> Iterator[SmtpServer]:
    """An SMTP server on a free loopback port for the duration of the block."""
    mailbox = mailbox or Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=5, **controller_options)
    controller.start()
    try:
        yield SmtpServer(mailbox, port)
    finally:
        mailbox.release.set()
        controller.stop()
