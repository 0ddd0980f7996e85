"""Prometheus metrics of the API: every request timed by route template, webhook outcomes, /metrics.

Labels never carry what a request carries: a route is its template
(`/v1/conversations/{conversation_id}`), never the path with its ids or phone numbers, and a
request no route matched counts as `unmatched`.
"""

from __future__ import annotations

import time
from typing import Protocol

from litestar import MediaType, Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["UNMATCHED", "ApiMetrics", "MeasureRequests", "metrics_route", "webhook_outcome"]

UNMATCHED = "unmatched"
_WEBHOOKS = "/webhooks/"


class ApiMetrics(Protocol):
    """What the API records and serves (nmc_adapters.metrics.Metrics, built by bootstrap)."""

    def count_webhook(self, route: str, outcome: str) -> None: ...

    def observe_request(self, route: str, seconds: float) -> None: ...

    async def render(self) -> tuple[bytes, str]: ...


def webhook_outcome(status: int) -> str:
    """`ok` (2xx, 3xx), `rejected` (401/403: bad or missing signature), `invalid` (any other
    4xx: malformed or oversized input), `error` (5xx: ours, e.g. the database unreachable)."""
    if status < 400:
        return "ok"
    if status in (401, 403):
        return "rejected"
    if status < 500:
        return "invalid"
    return "error"


class MeasureRequests:
    """ASGI wrapper around the app's whole handler, routing and its errors included.

    Litestar's `middleware` wraps each route, so a request no route matches never meets it;
    this wraps `Litestar.asgi_handler` instead (as Litestar's OpenTelemetry plugin does), and
    reads the route template the router leaves in the scope once the request is answered.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        status = 500  # what the client gets if the app fails before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = scope.get("path_template") or UNMATCHED
            self.metrics.observe_request(route, time.perf_counter() - started)
            if route.startswith(_WEBHOOKS):
                self.metrics.count_webhook(route, webhook_outcome(status))


def metrics_route(metrics: ApiMetrics) -> HTTPRouteHandler:
    """GET /metrics: the Prometheus exposition (the outbox gauges read at this moment)."""

    @get("/metrics", media_type=MediaType.TEXT, summary="Prometheus metrics of this process")
    async def serve_metrics() -> Response[bytes]:
        body, content_type = await metrics.render()
        # Set as is: Litestar would append a second charset to a text/* media type.
        return Response(body, headers={"content-type": content_type})

    return serve_metrics
