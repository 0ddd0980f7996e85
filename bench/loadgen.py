"""A lean HTTP/1.1 load generator: pre-rendered requests over keep-alive connections.

httpx costs more CPU per request than the API it measures; on a 2-core machine the load
generator must not starve the system under test. This sends bytes rendered in advance and reads
just the status line, headers and Content-Length body of each answer.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode, urlsplit

# uvicorn closes a connection idle for 5 s; never reuse one that may be closing.
_MAX_IDLE_SECONDS = 2.0


def render_post(url: str, form: dict[str, str], headers: dict[str, str]) -> bytes:
    """The bytes of a form POST to `url`."""
    parts = urlsplit(url)
    body = urlencode(form).encode()
    lines = [
        f"POST {parts.path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Pool:
    """Keep-alive connections to one host; a request takes an idle one or opens another."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def send(self, request: bytes) -> int:
        """Send one rendered request; returns the HTTP status.

        A kept-alive connection the server closed meanwhile is retried once on a new one, as
        HTTP clients do (the webhook is idempotent, and the bench counts duplicates anyway).
        """
        now = time.monotonic()
        while self._idle:
            since, reader, writer = self._idle.pop()
            if now - since < _MAX_IDLE_SECONDS:
                try:
                    return await self._exchange(reader, writer, request)
                except (ConnectionError, asyncio.IncompleteReadError, IndexError):
                    writer.close()
                    break
            writer.close()
        reader, writer = await asyncio.open_connection(self._host, self._port)
        return await self._exchange(reader, writer, request)

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> int:
        writer.write(request)
        status_line = await reader.readline()
        length, keep = 0, True
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "connection" and value.strip().lower() == "close":
                keep = False
        status = int(status_line.split()[1])
        await reader.readexactly(length)
        if keep:
            self._idle.append((time.monotonic(), reader, writer))
        else:
            writer.close()
        return status

    async def close(self) -> None:
        for _, _, writer in self._idle:
            writer.close()
        self._idle.clear()
