"""Work lost to concurrent work (TryAgain) is run again, body and all, then answered 409."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar, Request, post
from litestar.middleware import DefineMiddleware
from litestar.testing import AsyncTestClient
from litestar.types import Message

from nmc_api.retrying import RetryOnContention, RetryPolicy, lost_to_contention
from nmc_domain.shared.errors import TryAgain

PROBLEM = "application/problem+json"


class Flaky:
    """A route that loses to contention on its first `losses` runs; records what it read."""

    def __init__(self, losses: int, error: type[Exception] = TryAgain) -> None:
        self.losses = losses
        self.error = error
        self.bodies: list[bytes] = []
        self.pauses: list[float] = []

    def app(self, *, with_middleware: bool = True) -> Litestar:
        @post("/jobs", status_code=201)
        async def add_job(request: Request) -> dict[str, int]:
            # Read as a stream (Litestar does not cache that): the replay must supply it.
            body = b"".join([chunk async for chunk in request.stream()])
            self.bodies.append(body)
            if len(self.bodies) <= self.losses:
                raise self.error("deadlock detected")
            return {"attempts": len(self.bodies), "bytes": len(body)}

        async def sleep(seconds: float) -> None:
            self.pauses.append(seconds)

        policy = RetryPolicy(rng=lambda: 0.5, sleep=sleep)
        middleware = [DefineMiddleware(RetryOnContention, policy=policy)]
        return Litestar(
            route_handlers=[add_job],
            exception_handlers={TryAgain: lost_to_contention},
            middleware=middleware if with_middleware else [],
        )


async def post_jobs(flaky: Flaky, **app: bool) -> Any:
    async with AsyncTestClient(flaky.app(**app)) as client:
        return await client.post("/jobs", content=BODY)


BODY = b'{"name": "Water heater flush", "notes": "' + b"x" * 5000 + b'"}'


@pytest.mark.parametrize("losses", [0, 1, 2])
async def test_up_to_two_losses_end_in_success_with_the_same_body(losses: int) -> None:
    flaky = Flaky(losses)
    response = await post_jobs(flaky)

    assert response.status_code == 201, response.text
    assert response.json() == {"attempts": losses + 1, "bytes": len(BODY)}
    assert flaky.bodies == [BODY] * (losses + 1)
    # jitter: rng() x 50 ms x the attempt that failed
    assert flaky.pauses == pytest.approx([0.025, 0.05][:losses])


@pytest.mark.parametrize("losses", [3, 10])
async def test_a_third_loss_is_a_409_problem_asking_to_try_again(losses: int) -> None:
    flaky = Flaky(losses)
    response = await post_jobs(flaky)

    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert body["status"] == 409
    assert "try again" in body["detail"]
    assert "deadlock" not in response.text
    assert flaky.bodies == [BODY] * 3  # three attempts in all, then no more
    assert flaky.pauses == pytest.approx([0.025, 0.05])  # no pause after the last


async def test_other_errors_are_not_run_again() -> None:
    flaky = Flaky(1, error=RuntimeError)
    response = await post_jobs(flaky)

    assert response.status_code == 500
    assert len(flaky.bodies) == 1
    assert flaky.pauses == []


async def test_without_the_middleware_the_handler_still_answers_409_once() -> None:
    flaky = Flaky(1)
    response = await post_jobs(flaky, with_middleware=False)

    assert (response.status_code, response.headers["retry-after"]) == (409, "1")
    assert len(flaky.bodies) == 1


async def raw_post(app: Litestar, chunks: list[bytes]) -> list[Message]:
    """Drive the app as a server would, the body arriving in several chunks."""
    incoming: Iterator[Message] = iter(
        [
            *(
                {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
                for i, c in enumerate(chunks)
            ),
        ]
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return next(incoming, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/jobs",
        "raw_path": b"/jobs",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


async def test_a_body_in_chunks_is_replayed_whole_to_every_attempt() -> None:
    flaky = Flaky(2)
    chunks = [b"first-", b"second-", b"", b"third"]

    # Driven directly (the test client hands the body over in one piece, and runs the app in a
    # thread of its own where a broken replay would hang rather than fail).
    async with asyncio.timeout(10):
        sent = await raw_post(flaky.app(), chunks)

    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [201]  # the lost answers never left
    assert flaky.bodies == [b"first-second-third"] * 3


def test_default_jitter_is_at_most_50_ms_per_attempt() -> None:
    policy = RetryPolicy()

    pauses = [policy.pause(attempt) for attempt in (1, 2) for _ in range(200)]

    assert all(0 <= p <= 0.05 for p in pauses[:200])
    assert all(0 <= p <= 0.10 for p in pauses[200:])
    assert len(set(pauses)) > 100  # random, not a constant
