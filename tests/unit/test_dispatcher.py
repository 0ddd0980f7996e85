"""The dispatcher on in-memory fakes: retries with seeded jitter, dead letters, bounded work."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

import pytest

from nmc_adapters.memory import (
    InMemoryOutboxQueue,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryWakeups,
)
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.retry import RetryPolicy
from nmc_worker.dispatcher import Dispatcher, DispatcherOptions

POLICY = RetryPolicy(base_seconds=2.0, cap_seconds=60.0, max_attempts=4)


async def produce(store: InMemoryStore, count: int = 1) -> list[MessageQueued]:
    events = [MessageQueued(uuid.uuid4(), uuid.uuid4()) for _ in range(count)]
    async with InMemoryUnitOfWork(store) as uow:
        for event in events:
            await uow.outbox.add(event)
        await uow.commit()
    return events


class Flaky:
    """A handler failing its first `failures` calls, remembering what it saw."""

    def __init__(self, failures: int) -> None:
        self.failures, self.seen = failures, []

    async def __call__(self, event: DomainEvent) -> None:
        self.seen.append(event)
        if len(self.seen) <= self.failures:
            raise RuntimeError(f"twilio: HTTP 503 (call {len(self.seen)})")


def dispatcher(store: InMemoryStore, handler, seed: int = 42, **options) -> Dispatcher:
    return Dispatcher(
        InMemoryOutboxQueue(store),
        InMemoryWakeups(store),
        {MessageQueued: handler},
        POLICY,
        random.Random(seed),
        DispatcherOptions(**options),
    )


async def test_a_failure_is_retried_after_the_seeded_full_jitter_delay() -> None:
    store = InMemoryStore()
    await produce(store)
    handler = Flaky(failures=2)
    subject = dispatcher(store, handler)
    expected = random.Random(42)

    assert await subject.run_once() == 1
    [row] = store.outbox_rows
    first_delay = POLICY.delay(1, expected)
    assert row.available_at == store.now + timedelta(seconds=first_delay)
    assert (row.attempts, row.last_error) == (1, "RuntimeError: twilio: HTTP 503 (call 1)")

    store.advance(first_delay)
    assert await subject.run_once() == 1
    second_delay = POLICY.delay(2, expected)
    assert row.available_at == store.now + timedelta(seconds=second_delay)
    assert 0 <= second_delay < 4.0  # the ceiling doubled

    store.advance(second_delay)
    assert await subject.run_once() == 1
    assert row.dispatched_at == store.now
    assert row.attempts == 2
    assert len(handler.seen) == 3


async def test_not_due_before_the_backoff_ends() -> None:
    store = InMemoryStore()
    await produce(store)
    subject = dispatcher(store, Flaky(failures=1), seed=7)
    await subject.run_once()
    [row] = store.outbox_rows

    store.advance((row.available_at - store.now).total_seconds() / 2)

    assert await subject.run_once() == 0


async def test_dead_lettered_after_max_attempts_and_kept() -> None:
    store = InMemoryStore()
    await produce(store)
    handler = Flaky(failures=99)
    subject = dispatcher(store, handler)

    for _ in range(POLICY.max_attempts):
        assert await subject.run_once() == 1
        store.advance(POLICY.cap_seconds)

    [row] = store.outbox_rows
    assert row.dead_at is not None
    assert row.attempts == POLICY.max_attempts
    assert await subject.run_once() == 0
    assert len(handler.seen) == POLICY.max_attempts


async def test_an_event_without_handler_is_dead_lettered_at_once() -> None:
    store = InMemoryStore()
    await produce(store)
    subject = Dispatcher(
        InMemoryOutboxQueue(store), InMemoryWakeups(store), {}, POLICY, random.Random(1)
    )

    await subject.run_once()

    [row] = store.outbox_rows
    assert row.dead_at is not None
    assert "no handler" in (row.last_error or "")


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_run_never_exceeds_its_concurrency_and_drains_everything(concurrency: int) -> None:
    store = InMemoryStore()
    produced = await produce(store, 10)
    running, peak, done = 0, 0, []
    all_done = asyncio.Event()

    async def slow(event: DomainEvent) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done.append(event)
        if len(done) == len(produced):
            all_done.set()

    stop = asyncio.Event()
    subject = dispatcher(store, slow, concurrency=concurrency, batch_size=4, poll_seconds=0.05)
    task = asyncio.create_task(subject.run(stop))
    await asyncio.wait_for(all_done.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)

    assert peak == concurrency
    assert sorted(e.message_id for e in done) == sorted(e.message_id for e in produced)
    assert all(row.dispatched_at is not None for row in store.outbox_rows)


class CountingQueue(InMemoryOutboxQueue):
    """The in-memory queue, remembering each complete() call."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.completions: list[list[int]] = []

    async def complete(self, item_ids) -> None:
        self.completions.append(list(item_ids))
        await super().complete(item_ids)


async def test_rows_finished_together_are_completed_by_one_call() -> None:
    store = InMemoryStore()
    await produce(store, 12)
    queue = CountingQueue(store)
    release = asyncio.Event()

    async def together(event: DomainEvent) -> None:
        await release.wait()  # every handler finishes in the same instant

    subject = Dispatcher(
        queue,
        InMemoryWakeups(store),
        {MessageQueued: together},
        POLICY,
        random.Random(5),
        DispatcherOptions(concurrency=12, batch_size=12),
    )
    claimed = asyncio.create_task(subject.run_once())
    await asyncio.sleep(0.01)
    release.set()
    assert await claimed == 12

    assert len(queue.completions) == 1
    assert sorted(queue.completions[0]) == sorted(row.id for row in store.outbox_rows)
    assert all(row.dispatched_at is not None for row in store.outbox_rows)
