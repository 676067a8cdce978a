"""The webhook receiver (ASGI, FastAPI): answer Strava's handshake, queue each event durably, answer.

Strava wants a 200 within 2 s and retries up to three times, so an event may arrive more than
once and in any order. The receiver only checks the event's shape, appends it to the fsync'd
inbox and answers; Airflow hears about it afterwards (`pipeline.webhooks.airflow`). FastAPI,
starlette and uvicorn are imported inside the functions that need them.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at runtime.
"""

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from pipeline.config import Settings
from pipeline.webhooks.airflow import AirflowApi, AirflowNotifier
from pipeline.webhooks.events import MAX_BODY_BYTES, EventError, WebhookEvent, parse_body, unsupported_content_type
from pipeline.webhooks.inbox import Inbox
from pipeline.webhooks.subscriptions import read_subscription_ids

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

WEBHOOK_PATH = "/webhook"


class GroupCommit:
    """Appends from concurrent requests share one write+fsync (group commit).

    Each request still returns only after its own event is on disk; under a burst the
    fsyncs batch up instead of queueing one by one. Runs on the server's event loop.
    """

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flushing = False
        self._task: asyncio.Task[None] | None = None

    async def append(self, record: dict[str, Any]) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if not self._flushing:
            self._flushing = True
            self._task = asyncio.create_task(self._flush())  # keep a reference: tasks are weakly held
        await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self.inbox.append, [r for r, _ in batch])
                except Exception as err:
                    for _, future in batch:
                        future.set_exception(err)
                else:
                    for _, future in batch:
                        future.set_result(None)
        finally:
            self._flushing = False


def create_app(
    settings: Settings,
    env: Mapping[str, str] | None = None,
    notifier: "AirflowNotifier | None" = None,
) -> "FastAPI":
    """The webhook receiver. `env` supplies STRAVA_SUBSCRIPTION_ID and BACKSTRIDE_AIRFLOW_*."""
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    env = dict(env or {})
    read_subscription_ids(settings, env)  # a bad STRAVA_SUBSCRIPTION_ID fails here, not per request
    inbox = Inbox(settings.inbox_dir)
    if notifier is None:
        api = AirflowApi.from_env(env)
        notifier = AirflowNotifier(api) if api else None
    app = FastAPI(
        title="backstride webhook receiver",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=_notifier_lifespan(notifier),
    )
    committer = GroupCommit(inbox)
    app.state.inbox = inbox
    app.state.notifier = notifier

    @app.get(WEBHOOK_PATH)
    async def handshake(request: Request) -> JSONResponse:
        """Strava's subscription check: echo hub.challenge if hub.verify_token matches."""
        return answer_handshake(request.query_params, settings.verify_token)

    @app.post(WEBHOOK_PATH)
    async def receive(request: Request) -> JSONResponse:
        """Check the event, append it to the inbox (fsync'd), answer; Airflow hears later."""
        try:
            event = await read_event(request)
        except EventError as e:
            return refuse(e.status, str(e))
        if event.subscription_id not in read_subscription_ids(settings, env):
            return refuse(403, "unknown subscription id")
        await committer.append(event.to_json())
        if notifier is not None:
            notifier.poke(event)
        return JSONResponse({"status": "queued"})

    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {"ok": True, "inbox_waiting": inbox.has_events()}

    return app


def _notifier_lifespan(
    notifier: AirflowNotifier | None,
) -> "Callable[[FastAPI], AbstractAsyncContextManager[None]]":
    """The notifier's thread runs while the server does."""

    @asynccontextmanager
    async def lifespan(app: "FastAPI") -> AsyncIterator[None]:
        if notifier is not None:
            notifier.start()
        try:
            yield
        finally:
            if notifier is not None:
                notifier.stop()

    return lifespan


def refuse(status: int, message: str) -> "JSONResponse":
    """A short JSON error (`{"error": ...}`) with a 4xx."""
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": message}, status_code=status)


def answer_handshake(query: Mapping[str, str], expected: str | None) -> "JSONResponse":
    """403 unless the verify token matches (compared in constant time); then echo the challenge."""
    from fastapi.responses import JSONResponse

    token, challenge = query.get("hub.verify_token"), query.get("hub.challenge")
    if not expected or token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        return refuse(403, "verify token does not match")
    if query.get("hub.mode") != "subscribe" or challenge is None:
        return refuse(400, "expected hub.mode=subscribe and hub.challenge")
    return JSONResponse({"hub.challenge": challenge})


async def read_event(request: "Request") -> WebhookEvent:
    """The request's event, or EventError with the 4xx to answer; never reads past 64 KB."""
    from starlette.requests import ClientDisconnect

    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise EventError(413, f"body over {MAX_BODY_BYTES} bytes")
    unsupported = unsupported_content_type(request.headers.get("content-type"))
    if unsupported:
        raise EventError(415, unsupported)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                raise EventError(413, f"body over {MAX_BODY_BYTES} bytes")
    except ClientDisconnect:
        raise EventError(400, "the body ended early") from None
    return parse_body(bytes(body))


def serve(
    settings: Settings,
    env: Mapping[str, str],
    host: str = "127.0.0.1",
    port: int = 8787,
    app: "FastAPI | None" = None,
) -> None:
    """Run the receiver under uvicorn. Access logs are off: the handshake URL carries the verify token."""
    import uvicorn

    uvicorn.run(app or create_app(settings, env), host=host, port=port, access_log=False, log_level="info")
