"""A worker process's parts: the dispatcher plus what must start before and close after it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import attrs

from nmc_worker.dispatcher import Dispatcher

__all__ = ["Worker"]


@attrs.frozen
class Worker:
    """Built by `bootstrap`; `run` dispatches until `stop` is set, then closes everything."""

    dispatcher: Dispatcher
    start: Callable[[], Awaitable[None]]
    close: Callable[[], Awaitable[None]]

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await self.dispatcher.run(stop)
        finally:
            await self.close()
