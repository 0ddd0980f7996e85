"""The outbox dispatcher: claim due rows, run their handlers, retry with backoff, dead-letter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import attrs
import structlog

from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import OutboxItem, OutboxQueue, Wakeups
from nmc_domain.shared.retry import RetryPolicy, UniformSource

__all__ = ["DeadLetterHandler", "Dispatcher", "DispatcherOptions", "Handler"]

log = structlog.get_logger("nmc.worker")
Handler = Callable[[DomainEvent], Awaitable[object]]
# Runs when a row is dead-lettered (with the last error), so the business state can say so.
DeadLetterHandler = Callable[[DomainEvent, str], Awaitable[object]]


@attrs.frozen
class DispatcherOptions:
    """How much the worker does at once, and how long it sleeps without a wakeup."""

    concurrency: int = 8
    batch_size: int = 16
    poll_seconds: float = 1.0
    # A claimed row stays hidden this long; past it, a crashed worker's row is claimed again.
    lease_seconds: float = 60.0
    shutdown_grace_seconds: float = 10.0
    # Rows finished within this window are marked dispatched by one UPDATE: under load that is
    # one statement for many messages. (The messages themselves are already out.)
    complete_delay_seconds: float = 0.005


class Dispatcher:
    """Runs handlers with bounded concurrency; each outcome is written back to the queue."""

    def __init__(
        self,
        queue: OutboxQueue,
        wakeups: Wakeups,
        handlers: Mapping[type[DomainEvent], Handler],
        policy: RetryPolicy,
        rng: UniformSource,
        options: DispatcherOptions = DispatcherOptions(),
        dead_letters: Mapping[type[DomainEvent], DeadLetterHandler] | None = None,
    ) -> None:
        self._dead_letters = dict(dead_letters or {})
        self._queue = queue
        self._wakeups = wakeups
        self._handlers = handlers
        self._policy = policy
        self._rng = rng
        self._options = options
        self._done: list[int] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set, then let in-flight handlers finish (within the grace)."""
        inflight: set[asyncio.Task[None]] = set()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                free = self._options.concurrency - len(inflight)
                if free <= 0:
                    await asyncio.wait({*inflight, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    continue
                wanted = min(free, self._options.batch_size)
                items = await self._claim(wanted)
                for item in items:
                    task = asyncio.create_task(self.process(item))
                    inflight.add(task)
                    task.add_done_callback(inflight.discard)
                if len(items) < wanted:  # drained: sleep until a wakeup, the poll, or stop
                    waiting = asyncio.create_task(self._wakeups.wait(self._options.poll_seconds))
                    await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    waiting.cancel()
        finally:
            stopping.cancel()
            if inflight:
                await asyncio.wait(inflight, timeout=self._options.shutdown_grace_seconds)
            await self.flush()

    async def run_once(self) -> int:
        """Claim one batch and process it fully; returns how many rows were claimed."""
        items = await self._claim(self._options.batch_size)
        await asyncio.gather(*(self.process(item) for item in items))
        await self.flush()
        return len(items)

    async def flush(self) -> None:
        """Mark every finished row dispatched now."""
        done, self._done = self._done, []
        if not done:
            return
        try:
            await self._queue.complete(done)
        except Exception as exc:  # the leases bring them back; the handlers are idempotent
            log.error("outbox.record_failed", outbox_ids=done, error=str(exc))

    def _completed(self, item_id: int) -> None:
        self._done.append(item_id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._done:  # rows finished while a flush was out go in the next one
            await asyncio.sleep(self._options.complete_delay_seconds)
            await self.flush()

    async def _claim(self, limit: int) -> list[OutboxItem]:
        try:
            return list(await self._queue.claim(limit, self._options.lease_seconds))
        except Exception as exc:  # the database may be away; the poll tries again
            log.error("outbox.claim_failed", error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self._options.poll_seconds)
            return []

    async def process(self, item: OutboxItem) -> None:
        """Run one row's handler and record the outcome (never raises)."""
        handler = self._handlers.get(type(item.event)) if item.event is not None else None
        try:
            if handler is None:
                await self._queue.bury(item.id, f"no handler for topic {item.topic!r}")
                log.error("outbox.dead", outbox_id=item.id, topic=item.topic, error="no handler")
                return
            try:
                await handler(item.event)  # type: ignore[arg-type]
            except Exception as exc:
                await self._failed(item, f"{type(exc).__name__}: {exc}")
            else:
                self._completed(item.id)
        except Exception as exc:  # recording the outcome failed: the lease brings it back
            log.error("outbox.record_failed", outbox_id=item.id, error=str(exc))

    async def _failed(self, item: OutboxItem, error: str) -> None:
        attempts = item.attempts + 1
        if self._policy.gives_up_after(attempts):
            await self._queue.bury(item.id, error)
            log.error(
                "outbox.dead", outbox_id=item.id, topic=item.topic, attempts=attempts, error=error
            )
            event = item.event
            on_dead = None if event is None else self._dead_letters.get(type(event))
            if on_dead is not None and event is not None:
                try:
                    await on_dead(event, error)
                except Exception as exc:  # the row is kept dead either way
                    log.error("outbox.dead_letter_failed", outbox_id=item.id, error=str(exc))
            return
        delay = self._policy.delay(attempts, self._rng)
        await self._queue.retry(item.id, error, delay)
        log.warning(
            "outbox.retry",
            outbox_id=item.id,
            topic=item.topic,
            attempts=attempts,
            retry_in=round(delay, 3),
            error=error,
        )
