"""The outbox dispatcher: claim due rows, run their handlers, retry with backoff, dead-letter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import attrs
import structlog

from nmc_domain.shared.errors import NeedsReview
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import OutboxItem, OutboxQueue, Wakeups
from nmc_domain.shared.retry import RetryPolicies, UniformSource

__all__ = ["DeadLetterHandler", "Dispatcher", "DispatcherOptions", "Handler", "Observer"]

log = structlog.get_logger("nmc.worker")
Handler = Callable[[DomainEvent], Awaitable[object]]
# Runs when a row is dead-lettered (with the last error), so the business state can say so.
DeadLetterHandler = Callable[[DomainEvent, str], Awaitable[object]]


# Told what became of each claimed row: (topic, result), result one of "done", "retry",
# "dead", "needs_review", "released", "lease_lost" (metrics count them).
Observer = Callable[[str, str], None]


def _ignore(_topic: str, _result: str) -> None:
    return None


@attrs.frozen
class DispatcherOptions:
    """How much the worker does at once, and how long it sleeps without a wakeup."""

    concurrency: int = 8
    batch_size: int = 16
    poll_seconds: float = 1.0
    # A claimed row stays hidden this long; past it, a crashed worker's row is claimed again.
    lease_seconds: float = 60.0
    # A handler (reconciliation included) is cut off after this long: well inside the lease,
    # so a row is never worked on by two workers at once unless a worker hangs outright.
    handler_timeout_seconds: float = 30.0
    shutdown_grace_seconds: float = 10.0
    # Rows finished within this window are marked dispatched by one UPDATE: under load that is
    # one statement for many messages. (The messages themselves are already out.)
    complete_delay_seconds: float = 0.005

    def __attrs_post_init__(self) -> None:
        if not 0 < self.handler_timeout_seconds < self.lease_seconds:
            raise ValueError("need 0 < handler_timeout_seconds < lease_seconds")
        if self.concurrency < 1 or self.batch_size < 1:
            raise ValueError("concurrency and batch_size must be at least 1")


class Dispatcher:
    """Runs handlers with bounded concurrency; each outcome is written back to the queue."""

    def __init__(
        self,
        queue: OutboxQueue,
        wakeups: Wakeups,
        handlers: Mapping[type[DomainEvent], Handler],
        policies: RetryPolicies,
        rng: UniformSource,
        options: DispatcherOptions = DispatcherOptions(),
        dead_letters: Mapping[type[DomainEvent], DeadLetterHandler] | None = None,
        observe: Observer = _ignore,
    ) -> None:
        self._dead_letters = dict(dead_letters or {})
        self._queue = queue
        self._wakeups = wakeups
        self._handlers = handlers
        self._policies = policies
        self._rng = rng
        self._options = options
        self._observe = observe
        self._done: list[OutboxItem] = []
        self._flusher: asyncio.Task[None] | None = None
        self._claiming = False

    @property
    def claiming(self) -> bool:
        """The dispatcher is running and claiming rows (readiness)."""
        return self._claiming

    async def run(self, stop: asyncio.Event) -> None:
        """Dispatch until `stop` is set; then let in-flight handlers finish within the grace
        and hand the rest back (due at once) so another worker takes them without waiting."""
        inflight: dict[asyncio.Task[None], OutboxItem] = {}
        stopping = asyncio.create_task(stop.wait())
        self._claiming = True
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
                    inflight[task] = item
                    task.add_done_callback(inflight.pop)
                if len(items) < wanted and not stop.is_set():
                    # Drained: sleep until a wakeup, the poll, or stop.
                    waiting = asyncio.create_task(self._wakeups.wait(self._options.poll_seconds))
                    await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    waiting.cancel()
        finally:
            self._claiming = False
            stopping.cancel()
            await self._wind_down(inflight)
            await self.flush()

    async def _wind_down(self, inflight: dict[asyncio.Task[None], OutboxItem]) -> None:
        if not inflight:
            return
        await asyncio.wait(set(inflight), timeout=self._options.shutdown_grace_seconds)
        unfinished = {task: item for task, item in inflight.items() if not task.done()}
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*unfinished, return_exceptions=True)
        if not unfinished:
            return
        items = list(unfinished.values())
        try:
            released = await self._queue.release(items)
        except Exception as exc:  # the leases run out by themselves
            log.error("outbox.release_failed", outbox_ids=[i.id for i in items], error=str(exc))
            return
        for item in items:
            self._observe(item.topic, "released")
        log.warning("outbox.released", outbox_ids=[i.id for i in items], released=released)

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
            marked = set(await self._queue.complete(done))
        except Exception as exc:  # the leases bring them back; the handlers are idempotent
            log.error("outbox.record_failed", outbox_ids=[i.id for i in done], error=str(exc))
            return
        for item in done:
            if item.id in marked:
                self._observe(item.topic, "done")
            else:  # its lease was taken over meanwhile: the outcome is the other claim's
                self._observe(item.topic, "lease_lost")
                log.warning("outbox.lease_lost", outbox_id=item.id, topic=item.topic)

    def _completed(self, item: OutboxItem) -> None:
        self._done.append(item)
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
        """Run one row's handler and record the outcome (never raises, except cancellation)."""
        context = {"outbox_id": item.id, "topic": item.topic}
        if item.request_id is not None:
            context["request_id"] = item.request_id
        with structlog.contextvars.bound_contextvars(**context):
            try:
                await self._process(item, asyncio.get_running_loop().time())
            except Exception as exc:  # recording the outcome failed: the lease brings it back
                log.error("outbox.record_failed", error=str(exc))

    async def _process(self, item: OutboxItem, started: float) -> None:
        event = item.event
        handler = None if event is None else self._handlers.get(type(event))
        if event is None or handler is None:
            await self._bury(item, f"no handler for topic {item.topic!r}")
            return
        policy = self._policies.of(type(event))
        if item.reclaimed and policy.gives_up_on_reclaim(item.age_seconds, item.reclaims):
            # Its worker died (or hung) on the last claim, and the budget is spent or it has
            # happened too often: a row that kills its worker every time must not loop.
            await self._bury(
                item, f"gave up: its worker stopped or hung {item.reclaims} time(s) (lease lapsed)"
            )
            return
        try:
            async with asyncio.timeout(self._options.handler_timeout_seconds):
                await handler(event)
        except NeedsReview as exc:
            await self._set_aside(item, str(exc))
        except TimeoutError:
            limit = self._options.handler_timeout_seconds
            await self._failed(item, f"handler timed out after {limit:g} s", started)
        except Exception as exc:
            await self._failed(item, f"{type(exc).__name__}: {exc}", started)
        else:
            self._completed(item)  # observed as done once the row is marked

    async def _set_aside(self, item: OutboxItem, reason: str) -> None:
        if await self._queue.set_aside(item, reason):
            self._observe(item.topic, "needs_review")
            log.error("outbox.needs_review", reason=reason)
        else:
            self._lease_lost(item)

    async def _failed(self, item: OutboxItem, error: str, started: float) -> None:
        policy = self._policies.of(None if item.event is None else type(item.event))
        age = item.age_seconds + asyncio.get_running_loop().time() - started
        attempts = item.attempts + 1
        if policy.gives_up(age):
            await self._bury(item, error, attempts=attempts)
            return
        delay = policy.delay(attempts, self._rng, age_seconds=age)
        if not await self._queue.retry(item, error, delay):
            self._lease_lost(item)
            return
        self._observe(item.topic, "retry")
        log.warning("outbox.retry", attempts=attempts, retry_in=round(delay, 3), error=error)

    async def _bury(self, item: OutboxItem, error: str, *, attempts: int | None = None) -> None:
        if not await self._queue.bury(item, error):
            self._lease_lost(item)
            return
        self._observe(item.topic, "dead")
        log.error("outbox.dead", attempts=attempts or item.attempts + 1, error=error)
        event = item.event
        on_dead = None if event is None else self._dead_letters.get(type(event))
        if on_dead is not None and event is not None:
            try:
                await on_dead(event, error)
            except Exception as exc:  # the row is kept dead either way
                log.error("outbox.dead_letter_failed", error=str(exc))

    def _lease_lost(self, item: OutboxItem) -> None:
        # Another worker claimed the row after our lease lapsed: the outcome is theirs.
        self._observe(item.topic, "lease_lost")
        log.warning("outbox.lease_lost")
