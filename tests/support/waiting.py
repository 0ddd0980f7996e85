"""Waiting for something that happens in another task or process (no fixed sleeps)."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from nmc_worker.worker import Worker

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T] | T], *, within: float = 10.0) -> T:
    """The first truthy result of `probe` (sync or async), polled for `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = probe()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {result!r})")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running(*workers: Worker) -> AsyncIterator[None]:
    """Run workers in the background for the duration of the block, then stop them cleanly."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in workers]
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
