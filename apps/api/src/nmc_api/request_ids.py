"""Request ids: one per request, bound to every log line it causes and echoed to the caller."""

from __future__ import annotations

import re
import uuid

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["HEADER", "RequestIds", "echo_request_id", "request_id"]

HEADER = "X-Request-ID"
_HEADER = HEADER.lower().encode("latin-1")
# A proxy's or a client's id is kept only when it cannot garble a log line or a header.
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_KEY = "nmc.request_id"


def request_id(scope: Scope) -> str:
    """This request's id: a sane incoming X-Request-ID, else a fresh uuid4 hex (kept in scope)."""
    state = scope.setdefault("state", {})
    known: str | None = state.get(_KEY)
    if known is None:
        incoming = next((v for k, v in scope.get("headers", ()) if k.lower() == _HEADER), b"")
        known = incoming.decode("ascii") if _SANE.fullmatch(incoming) else uuid.uuid4().hex
        state[_KEY] = known
    return known


class RequestIds:
    """ASGI middleware: the request id is bound to structlog's context while the request runs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        with structlog.contextvars.bound_contextvars(request_id=request_id(scope)):
            await self.app(scope, receive, send)


async def echo_request_id(message: Message, scope: Scope) -> None:
    """before_send hook: every response carries X-Request-ID, routed or not (a 404 too)."""
    if message["type"] == "http.response.start":
        headers = [h for h in message.get("headers", ()) if h[0].lower() != _HEADER]
        message["headers"] = [*headers, (_HEADER, request_id(scope).encode("ascii"))]
