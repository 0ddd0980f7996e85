"""The worker's operations port: GET /metrics, /healthz and /readyz over minimal HTTP/1.1.

A scraper and a probe each send one GET and read one answer, so one request per connection
(`Connection: close`) is all this serves: no keep-alive, no body, no framework. It runs on the
worker's own event loop and installs no signal handlers (uvicorn's server would).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from http import HTTPStatus
from typing import Protocol

import structlog

__all__ = ["MetricsSource", "OpsServer"]

log = structlog.get_logger("nmc.worker.ops")

_HEAD_LIMIT = 16 * 1024  # request line and headers; a probe sends a few hundred bytes
_READ_SECONDS = 5.0  # a client that does not finish its request in time is dropped
_LINGER_SECONDS = 1.0  # at most this long draining a client's leftover input before closing
_TEXT = "text/plain; charset=utf-8"
_PATHS = ("/metrics", "/healthz", "/readyz")
_METHODS = ("GET", "HEAD")

_Answer = tuple[int, str, bytes]  # status, content type, body


class MetricsSource(Protocol):
    """Renders the Prometheus exposition (nmc_adapters.metrics.Metrics does)."""

    async def render(self) -> tuple[bytes, str]: ...


class OpsServer:
    """Serves `metrics` and the probes on host:port (port 0: any free one, see `port`).

    /healthz answers 200 while the process runs; /readyz 200 when `ready()` says so, else 503.
    """

    def __init__(
        self,
        metrics: MetricsSource,
        ready: Callable[[], bool],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._metrics = metrics
        self._ready = ready
        self._host = host
        self._port = port
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[object]] = set()

    @property
    def port(self) -> int:
        """The port bound by `start()`."""
        assert self._server is not None, "not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        """Bind and start accepting (an OSError, e.g. the port is taken, propagates)."""
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=_HEAD_LIMIT
        )
        log.info("ops_server.started", host=self._host, port=self.port)

    async def close(self) -> None:
        """Stop accepting and drop the connections still open."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        clients = list(self._clients)
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            try:
                async with asyncio.timeout(_READ_SECONDS):
                    head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                method, answer = "GET", (431, _TEXT, b"request head too large\n")
            except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
                return  # gone or too slow: nobody to answer
            else:
                method, answer = await self._answer(head)
            writer.write(_response(*answer, with_body=method != "HEAD"))
            await writer.drain()
            await _linger(reader, writer)
        except ConnectionError:
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, head: bytes) -> tuple[str, _Answer]:
        parts = head.split(b"\r\n", 1)[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            return "GET", (400, _TEXT, b"bad request\n")
        method, target = parts[0].decode("latin-1"), parts[1].decode("latin-1")
        path = target.split("?", 1)[0]
        if path not in _PATHS:
            return method, (404, _TEXT, b"not found\n")
        if method not in _METHODS:
            return method, (405, _TEXT, b"method not allowed\n")
        if path == "/healthz":
            return method, (200, _TEXT, b"ok\n")
        if path == "/readyz":
            return method, self._readiness()
        return method, await self._exposition()

    def _readiness(self) -> _Answer:
        try:
            ready = self._ready()
        except Exception as exc:
            log.warning("ops_server.readiness_failed", error=str(exc))
            ready = False
        return (200, _TEXT, b"ready\n") if ready else (503, _TEXT, b"not ready\n")

    async def _exposition(self) -> _Answer:
        try:
            body, content_type = await self._metrics.render()
        except Exception as exc:
            log.error("ops_server.metrics_failed", error=str(exc))
            return 500, _TEXT, b"metrics unavailable\n"
        return 200, content_type, body


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Half-close, then read what the client still sends until it closes (or a second passes):
    closing a socket with unread input resets it, and the client could lose our answer."""
    if writer.can_write_eof():
        writer.write_eof()
    with suppress(TimeoutError):
        async with asyncio.timeout(_LINGER_SECONDS):
            while await reader.read(64 * 1024):
                pass


def _response(status: int, content_type: str, body: bytes, *, with_body: bool) -> bytes:
    extra = "Allow: GET, HEAD\r\n" if status == 405 else ""
    head = (
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{extra}Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + (body if with_body else b"")
