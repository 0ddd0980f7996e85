"""The worker's operations port over a real socket: /metrics, /healthz, /readyz, and the rest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import attrs
import httpx
import pytest

from nmc_adapters.metrics import Metrics
from nmc_worker.ops_server import OpsServer


@attrs.define
class Readiness:
    ready: bool = False

    def __call__(self) -> bool:
        return self.ready


@attrs.frozen
class Running:
    server: OpsServer
    metrics: Metrics
    readiness: Readiness
    http: httpx.AsyncClient


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    metrics, readiness = Metrics(), Readiness()
    server = OpsServer(metrics, readiness, host="127.0.0.1", port=0)
    await server.start()
    base = f"http://127.0.0.1:{server.port}"
    async with httpx.AsyncClient(base_url=base, timeout=5) as http:
        yield Running(server, metrics, readiness, http)
    await server.close()


async def raw(port: int, request: bytes) -> bytes:
    """Send bytes as they are and read the whole answer (the server closes after one)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    writer.close()
    await writer.wait_closed()
    return answer


async def test_metrics_serves_the_worker_metrics(running: Running) -> None:
    running.metrics.count_dispatch("message.queued.v1", "done")
    running.metrics.count_sms("sent")

    response = await running.http.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    assert 'nmc_outbox_dispatch_total{result="done",topic="message.queued.v1"} 1.0' in response.text
    assert 'nmc_sms_sent_total{status="sent"} 1.0' in response.text
    assert response.headers["connection"] == "close"


async def test_healthz_answers_while_the_process_runs(running: Running) -> None:
    response = await running.http.get("/healthz")

    assert (response.status_code, response.text) == (200, "ok\n")


async def test_readyz_follows_the_readiness_callback(running: Running) -> None:
    before = await running.http.get("/readyz")
    running.readiness.ready = True
    after = await running.http.get("/readyz?verbose=1")

    assert (before.status_code, before.text) == (503, "not ready\n")
    assert (after.status_code, after.text) == (200, "ready\n")


async def test_a_failing_readiness_callback_is_not_ready() -> None:
    def broken() -> bool:
        raise RuntimeError("dispatcher gone")

    server = OpsServer(Metrics(), broken)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            response = await http.get("/readyz")
    finally:
        await server.close()

    assert response.status_code == 503


async def test_other_paths_are_404_and_other_methods_405(running: Running) -> None:
    unknown = await running.http.get("/v1/me")
    posted = await running.http.post("/metrics", content=b"x=1")

    assert unknown.status_code == 404
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET, HEAD"


async def test_head_answers_without_a_body(running: Running) -> None:
    answer = await raw(running.server.port, b"HEAD /healthz HTTP/1.1\r\nHost: worker\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Content-Length: 3\r\n" in answer
    assert answer.endswith(b"\r\n\r\n")


async def test_garbage_is_a_400(running: Running) -> None:
    answer = await raw(running.server.port, b"HELLO\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")


async def test_an_oversized_request_head_is_refused(running: Running) -> None:
    head = b"GET /metrics HTTP/1.1\r\nX-Padding: " + b"a" * 40_000 + b"\r\n\r\n"

    answer = await raw(running.server.port, head)

    assert answer.startswith(b"HTTP/1.1 431 ")


async def test_a_failing_render_is_a_500() -> None:
    class Broken:
        async def render(self) -> tuple[bytes, str]:
            raise RuntimeError("registry on fire")

    server = OpsServer(Broken(), lambda: True)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            response = await http.get("/metrics")
    finally:
        await server.close()

    assert response.status_code == 500


async def test_a_silent_client_does_not_hold_up_others_or_close(running: Running) -> None:
    _, silent = await asyncio.open_connection("127.0.0.1", running.server.port)

    response = await running.http.get("/healthz")
    await asyncio.wait_for(running.server.close(), timeout=2)

    assert response.status_code == 200
    silent.close()


async def test_close_stops_listening() -> None:
    server = OpsServer(Metrics(), lambda: True)
    await server.start()
    port = server.port

    await server.close()

    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
