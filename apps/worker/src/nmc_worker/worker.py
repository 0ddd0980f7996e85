"""A worker process's parts: the dispatcher plus what must start before and close after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

import attrs
import structlog

from nmc_worker.dispatcher import Dispatcher

__all__ = ["Job", "Worker", "every"]

# A job running beside the dispatcher until `stop` is set (retention, the ops server).
Job = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
log = structlog.get_logger("nmc.worker")


async def every(
    stop: asyncio.Event, seconds: float, work: Callable[[], Awaitable[None]], *, failed: str
) -> None:
    """Run `work` now and then every `seconds` until `stop`. A round that fails is logged as
    `failed` (the database may be away) and the next round tries again."""
    while not stop.is_set():
        try:
            await work()
        except Exception as exc:
            log.error(failed, error=f"{type(exc).__name__}: {exc}")
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            continue


@attrs.frozen
class Worker:
    """Built by `bootstrap`; `run` dispatches until `stop` is set, then closes everything."""

    dispatcher: Dispatcher
    start: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]
    jobs: Sequence[Job] = ()

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            jobs = [asyncio.create_task(job(stop)) for job in self.jobs]
            try:
                await self.dispatcher.run(stop)
            finally:
                stop.set()
                await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            await self.close()
