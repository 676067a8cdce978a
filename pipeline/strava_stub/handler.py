"""The HTTP plumbing: one request in, routed to the control, OAuth or API answers, faults applied.

It never logs request bodies, query strings or headers: they carry secrets and tokens.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pipeline.strava_stub.answers import NOT_FOUND_BODY, RATE_LIMIT_BODY, endpoint_name, json_body
from pipeline.strava_stub.api import api_route
from pipeline.strava_stub.control import control_route
from pipeline.strava_stub.faults import BODY_KINDS, EARLY_KINDS, Fault
from pipeline.strava_stub.oauth import authorize_page, oauth_route

if TYPE_CHECKING:
    from pipeline.strava_stub.server import StubServer


class QuietServer(ThreadingHTTPServer):
    """No tracebacks on stderr when a client hangs up (timeouts, slow-answer faults), and
    open keep-alive connections are cut on close, so a stopped server really is gone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)  # calls server_close() itself if binding fails

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class Handler(BaseHTTPRequestHandler):
    stub: StubServer  # set on the subclass made by StubServer.start()
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stalls
    server_version = "StravaStub/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines carry query strings, which may carry secrets."""

    # --- plumbing --------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return {}
        ctype = (self.headers.get("Content-Type") or "").lower()
        if "json" in ctype:
            try:
                value = json.loads(raw)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {"_list": value}
        return {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}

    def _send(
        self,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json; charset=utf-8",
    ) -> None:
        payload = raw if raw is not None else (b"" if body is None else json_body(body))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _bearer(self) -> str | None:
        value = self.headers.get("Authorization") or ""
        return value[7:].strip() if value.lower().startswith("bearer ") else None

    def _dispatch(self, method: str) -> None:
        """Answer one request; a bug in the stub answers 500 and is kept in `internal_errors`."""
        try:
            self._answer(method)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True  # the client hung up (timeouts, slow-answer faults)
        except Exception:
            self.stub.internal_errors.append(traceback.format_exc())
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send(500, {"message": "stub internal error", "errors": []})

    # --- routing ---------------------------------------------------------------------
    def _answer(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        body = self._read_body() if method in ("POST", "PUT", "DELETE") else {}
        if path.startswith("/_stub"):
            self._send(*control_route(self.stub, method, path, body))
        elif path == "/oauth/authorize" and method == "GET":
            page = authorize_page(self.stub, query)
            self._send(page.status, page.body, page.headers, raw=page.raw, content_type=page.content_type)
        elif path.startswith(("/api/v3", "/oauth")):
            self._strava(method, path, {**query, **body})
        else:
            self._send(404, NOT_FOUND_BODY)

    def _strava(self, method: str, path: str, params: dict[str, Any]) -> None:
        """An /api/v3 or /oauth request: counted, rate-limited, and perhaps spoilt by a fault."""
        stub = self.stub
        is_api = path.startswith("/api/v3")
        fault = stub._pick_fault(path)
        if fault is not None and fault.kind == "slow":
            time.sleep(fault.delay_s)
        headers: dict[str, str] = {}
        allowed = True
        if is_api:
            allowed = stub._count(method)
            headers = stub.rate_headers()
        endpoint = endpoint_name(method, path)
        # Errors, 429s and drops answer before the request reaches the application: no token
        # rotates, nothing changes. Malformed and truncated bodies replace a real answer.
        if fault is not None and fault.kind in EARLY_KINDS:
            self._early_fault(fault, endpoint, is_api, headers)
            return
        if is_api:
            status, result, athlete_id = api_route(stub, method, path, params, allowed, self._bearer())
        else:
            status, result = oauth_route(stub, method, path, params, self._bearer())
            athlete_id = None
        stub._record(endpoint, athlete_id, status, is_api)
        if fault is not None and fault.kind in BODY_KINDS and status < 400:
            self._send(status, None, headers, raw=fault.spoil(json_body(result)))
            return
        self._send(status, None if status == 204 else result, headers)

    def _early_fault(self, fault: Fault, endpoint: str, is_api: bool, headers: dict[str, str]) -> None:
        """A fault that answers instead of the application: a drop, a raw response, a 5xx or a 429."""
        stub = self.stub
        athlete_id = stub._athlete_for_access(self._bearer() or "") if is_api else None
        if fault.kind == "disconnect":
            stub._record(endpoint, athlete_id, 0, is_api)
            self.close_connection = True
            return
        if fault.kind == "response":
            answer_headers = dict(fault.headers) if fault.headers is not None else headers
            stub._record(endpoint, athlete_id, fault.status, is_api)
            self._send(fault.status, None, answer_headers, raw=(fault.body or "").encode("utf-8"))
            return
        if fault.kind == "status":
            status, result = fault.status, {"message": "Internal Server Error", "errors": []}
        else:
            status, result = 429, RATE_LIMIT_BODY
            headers = stub.rate_headers(exhausted=True) if is_api else {}
        stub._record(endpoint, athlete_id, status, is_api)
        self._send(status, result, headers)
