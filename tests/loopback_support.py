"""Real servers on 127.0.0.1 for tests: a free port, a JSON HTTP handler base and its server,
an ASGI app under uvicorn, and an aiosmtpd SMTP server whose mailbox keeps what it accepts and
can refuse addresses, drop or hold connections."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JsonHandler(BaseHTTPRequestHandler):
    """A quiet request handler that answers in JSON; subclasses add the `do_*` methods."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_json(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))


@contextmanager
def running_http(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on a free loopback port for the block; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_uvicorn(app: Any, start_timeout_s: float = 15) -> Iterator[str]:
    """An ASGI app under uvicorn on a free loopback port, in a thread, for the block; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
