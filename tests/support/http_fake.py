"""What every local fake provider (Twilio, Stripe) shares: a threaded HTTP server on a free port
that stops promptly, even with keep-alive connections idling."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self

__all__ = ["FakeServer", "ServedFake"]


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a benchmark's burst must not overflow the listen backlog
    fake: Any  # the ServedFake its handlers answer for
    open_sockets: set[socket.socket]  # so stop() can end threads idling on keep-alive

    def process_request(self, request: Any, client_address: Any) -> None:
        self.open_sockets.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, drop, stop()) is expected here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)


class ServedFake:
    """start()/stop(), a context manager and `base_url`, for a fake whose requests `handler`
    answers (it reaches the fake as `self.server.fake`)."""

    handler: ClassVar[type[BaseHTTPRequestHandler]]

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._address = (host, port)
        self._server: FakeServer | None = None

    def start(self) -> Self:
        server = FakeServer(self._address, self.handler)
        server.fake, server.open_sockets = self, set()
        # A short poll interval makes stop() quick: shutdown() waits for the loop to notice.
        loop = {"poll_interval": 0.05}
        threading.Thread(target=server.serve_forever, kwargs=loop, daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        for sock in list(server.open_sockets):
            with contextlib.suppress(OSError):  # already closed by its client
                sock.shutdown(socket.SHUT_RDWR)
        server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"
