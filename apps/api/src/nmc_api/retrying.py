"""Work that lost to concurrent work (TryAgain) is run again, up to three attempts, then 409."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import attrs
import structlog
from litestar import Response
from litestar.enums import ScopeType
from litestar.types import ASGIApp, HTTPRequestEvent, Message, Receive, ReceiveMessage, Scope, Send

from nmc_api.deps import AnyRequest
from nmc_api.v1.problems import Problem, problem_response
from nmc_domain.shared.errors import TryAgain

__all__ = ["RetryOnContention", "RetryPolicy", "lost_to_contention"]

# How this fits Litestar: between a route and the app's middleware Litestar puts an exception
# handler of its own, which turns any exception into a response before a middleware could see
# it. So TryAgain is never caught as an exception here. Its handler (`lost_to_contention`)
# answers the final 409 problem+json and marks the request; the middleware, around the route,
# discards a marked answer while attempts remain and runs the route again on the same request
# body. Where the middleware is absent the 409 still goes out: the mark is only a hint.

log = structlog.get_logger("nmc.api")
_LOST = "nmc.lost_to_contention"


@attrs.frozen
class RetryPolicy:
    """How often and after how long a pause: jitter of up to 50 ms per attempt made so far."""

    attempts: int = 3
    max_jitter_seconds: float = 0.05
    rng: Callable[[], float] = random.random  # uniform in [0, 1)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def pause(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.rng() * self.max_jitter_seconds * attempt


def lost_to_contention(request: AnyRequest, exc: TryAgain) -> Response[Problem]:
    """Exception handler: 409 problem+json asking the client to try again; marks the request."""
    request.scope.setdefault("state", {})[_LOST] = True
    log.warning("api.lost_to_contention", error=str(exc), path=request.url.path)
    return problem_response(
        request,
        409,
        "the request clashed with concurrent changes and was not applied; try again",
        headers={"Retry-After": "1"},
    )


class _Body:
    """The request body as the route reads it, replayed to each later attempt."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._chunks: list[bytes] = []
        self._complete = False

    def reader(self) -> Receive:
        """A `receive` for one attempt: the bytes read so far, then the rest from the client."""
        replay = [*self._chunks]

        async def receive() -> ReceiveMessage:
            if replay:
                event: HTTPRequestEvent = {
                    "type": "http.request",
                    "body": replay.pop(0),
                    "more_body": bool(replay) or not self._complete,
                }
                return event
            if self._complete:
                return await self._receive()  # past the body: a disconnect, when it comes
            message = await self._receive()
            if message["type"] == "http.request":
                self._chunks.append(message.get("body", b""))
                self._complete = not message.get("more_body", False)
            return message

        return receive


class _Answer:
    """One attempt's answer, passed on to the client unless it is a 409 to be tried again."""

    def __init__(self, send: Send, state: dict[str, object], may_discard: bool) -> None:
        self._send = send
        self._state = state
        self._may_discard = may_discard
        self.discarded = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self._state.get(_LOST):
            self.discarded = self._may_discard
        if not self.discarded:
            await self._send(message)


class RetryOnContention:
    """ASGI middleware running the route again when it answered "lost to contention"."""

    def __init__(self, app: ASGIApp, policy: RetryPolicy | None = None) -> None:
        self.app = app
        self.policy = policy or RetryPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        body = _Body(receive)
        state = scope.setdefault("state", {})
        for attempt in range(1, self.policy.attempts + 1):
            state[_LOST] = False
            answer = _Answer(send, state, may_discard=attempt < self.policy.attempts)
            await self.app(scope, body.reader(), answer.send)
            if not answer.discarded:
                return
            pause = self.policy.pause(attempt)
            log.info("api.retrying", attempt=attempt, pause_ms=round(pause * 1000, 1))
            await self.policy.sleep(pause)
