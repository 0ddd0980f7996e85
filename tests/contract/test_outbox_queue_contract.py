"""Outbox contract: producer rows appear on commit; the queue leases, retries, buries, completes.

Runs on the fakes and on PostgreSQL. On PostgreSQL the clock is the database's now(), which no
test controls: shared checks use a delay of 0 ("due again at once") or a long one ("not due"),
and bound times between two readings of the clock. Checks that move the clock are memory-only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import pytest

from nmc_adapters.memory import InMemoryStore
from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import OutboxItem
from tests.contract.backends import Backend, OutboxRowView, memory_backend

HOUR = 3600.0


@pytest.fixture
async def queue_backend(backend: Backend) -> Backend:
    """The backend with no due row but the test's own: rows left by earlier tests of this
    module (PostgreSQL's database is per module) are leased away for an hour."""
    await backend.queue.claim(10_000, HOUR)
    return backend


async def _produce(backend: Backend, count: int) -> tuple[UUID, list[UUID]]:
    """`count` MessageQueued rows of a fresh tenant, committed in order; their message ids."""
    tenant_id, message_ids = uuid.uuid4(), [uuid.uuid4() for _ in range(count)]
    async with backend.new_uow() as uow:
        for message_id in message_ids:
            await uow.outbox.add(MessageQueued(tenant_id, message_id))
        await uow.commit()
    return tenant_id, message_ids


def _message_ids(items: Sequence[OutboxItem]) -> list[UUID]:
    return [item.event.message_id for item in items if isinstance(item.event, MessageQueued)]


async def _row(backend: Backend, item_id: int) -> OutboxRowView:
    row = await backend.outbox_row(item_id)
    assert row is not None, "outbox rows are kept, never deleted"
    return row


async def test_claim_returns_due_rows_oldest_first_up_to_the_limit(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    tenant_id, produced = await _produce(queue_backend, 3)

    first = await queue.claim(2, HOUR)
    rest = await queue.claim(10, HOUR)

    assert _message_ids(first) == produced[:2]
    assert _message_ids(rest) == produced[2:]
    ids = [item.id for item in [*first, *rest]]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    item = first[0]
    assert (item.topic, item.attempts) == ("message.queued.v1", 0)
    assert item.event == MessageQueued(tenant_id, produced[0])


async def test_every_event_type_round_trips_through_the_outbox(queue_backend: Backend) -> None:
    async with queue_backend.new_uow() as uow:
        event = ComplianceStatusChanged(
            uuid.uuid4(), "rejected", "brand not verified", await uow.now()
        )
        await uow.outbox.add(event)
        await uow.commit()

    [item] = await queue_backend.queue.claim(10, HOUR)
    assert (item.topic, item.event) == ("compliance.status_changed.v1", event)


async def test_rows_of_an_uncommitted_unit_of_work_are_never_claimed(
    queue_backend: Backend,
) -> None:
    events: list[DomainEvent] = [MessageQueued(uuid.uuid4(), uuid.uuid4()) for _ in range(2)]
    async with queue_backend.new_uow() as uow:
        await uow.outbox.add(events[0])
        assert await queue_backend.queue.claim(10, HOUR) == []  # not yet committed
    async with queue_backend.new_uow() as uow:
        await uow.outbox.add(events[1])
        await uow.commit()

    claimed = await queue_backend.queue.claim(10, HOUR)
    assert [item.event for item in claimed] == [events[1]]


async def test_a_lease_hides_claimed_rows_until_it_ends(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    _, produced = await _produce(queue_backend, 2)
    before = await queue_backend.clock()
    [leased] = await queue.claim(1, HOUR)
    after = await queue_backend.clock()

    row = await _row(queue_backend, leased.id)
    assert before + timedelta(hours=1) <= row.available_at <= after + timedelta(hours=1)
    assert _message_ids(await queue.claim(10, 0)) == produced[1:]  # the other row, lease 0
    # A lease of 0 has ended at once (as a crashed worker's lease ends): claimable again.
    again = await queue.claim(10, HOUR)
    assert _message_ids(again) == produced[1:]
    assert again[0].attempts == 0  # a claim is not an attempt


async def test_concurrent_claims_get_disjoint_rows(queue_backend: Backend) -> None:
    _, produced = await _produce(queue_backend, 4)
    batches = await asyncio.gather(*(queue_backend.queue.claim(2, HOUR) for _ in range(3)))

    claimed = [message_id for batch in batches for message_id in _message_ids(batch)]
    assert sorted(claimed) == sorted(produced)


async def test_retry_counts_the_attempt_and_delays_the_row(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    _, [soon, _later] = await _produce(queue_backend, 2)
    first, second = await queue.claim(10, HOUR)

    await queue.retry(first.id, "twilio: HTTP 503", 0)
    before = await queue_backend.clock()
    await queue.retry(second.id, "x" * 5000, HOUR)
    after = await queue_backend.clock()

    [again] = await queue.claim(10, HOUR)  # delay 0: due at once; the other is not due
    assert (_message_ids([again]), again.attempts) == ([soon], 1)
    row = await _row(queue_backend, second.id)
    assert (row.attempts, row.last_error) == (1, "x" * 2000)  # errors are kept truncated
    assert before + timedelta(hours=1) <= row.available_at <= after + timedelta(hours=1)
    assert (row.dispatched_at, row.dead_at) == (None, None)
    assert (await _row(queue_backend, first.id)).last_error == "twilio: HTTP 503"


async def test_bury_dead_letters_the_row_and_keeps_it(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [item] = await queue.claim(10, 0)
    await queue.retry(item.id, "twilio: HTTP 503", 0)
    [item] = await queue.claim(10, 0)

    await queue.bury(item.id, "SmsRejected: 21211 invalid To number")

    assert await queue.claim(10, HOUR) == []  # lease 0 has ended, yet the row stays buried
    row = await _row(queue_backend, item.id)
    assert (row.attempts, row.last_error) == (2, "SmsRejected: 21211 invalid To number")
    assert row.dead_at is not None
    assert row.dispatched_at is None


async def test_complete_marks_the_row_dispatched_and_keeps_it(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [item] = await queue.claim(10, 0)

    await queue.complete([item.id])

    assert await queue.claim(10, HOUR) == []
    row = await _row(queue_backend, item.id)
    assert (row.topic, row.attempts, row.dead_at) == ("message.queued.v1", 0, None)
    assert row.dispatched_at is not None


async def test_complete_takes_several_rows_at_once(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 3)
    first, second, third = await queue.claim(3, 0)

    await queue.complete([first.id, third.id])
    await queue.complete([])

    assert [item.id for item in await queue.claim(10, HOUR)] == [second.id]
    assert (await _row(queue_backend, first.id)).dispatched_at is not None
    assert (await _row(queue_backend, third.id)).dispatched_at is not None


async def test_a_finished_row_cannot_be_finished_again(queue_backend: Backend) -> None:
    # A worker whose lease ran out may report after another worker dispatched the row.
    queue = queue_backend.queue
    await _produce(queue_backend, 2)
    dispatched, dead = await queue.claim(2, 0)
    await queue.complete([dispatched.id])
    await queue.bury(dead.id, "SmsRejected: 21211 invalid To number")

    await queue.bury(dispatched.id, "late failure report")
    await queue.retry(dead.id, "late retry", 0)
    await queue.complete([dead.id])

    done, buried = await _row(queue_backend, dispatched.id), await _row(queue_backend, dead.id)
    assert (done.dead_at, done.attempts, done.last_error) == (None, 0, None)
    assert done.dispatched_at is not None
    assert (buried.dispatched_at, buried.attempts) == (None, 1)
    assert buried.last_error == "SmsRejected: 21211 invalid To number"
    assert await queue.claim(10, HOUR) == []


async def test_a_payload_this_version_cannot_read_is_claimed_without_event(
    queue_backend: Backend,
) -> None:
    item_id = await queue_backend.insert_raw_outbox(
        "invoice.paid.v9", {"type": "invoice.paid.v9", "tenant_id": str(uuid.uuid4())}
    )

    [item] = await queue_backend.queue.claim(10, HOUR)
    assert (item.id, item.topic, item.event, item.attempts) == (item_id, "invoice.paid.v9", None, 0)


async def test_finishing_an_unknown_row_changes_nothing(queue_backend: Backend) -> None:
    queue, missing = queue_backend.queue, 2**62
    await queue.complete([missing])
    await queue.retry(missing, "gone", 0)
    await queue.bury(missing, "gone")
    assert await queue_backend.outbox_row(missing) is None


# Memory-only: these move the clock, which PostgreSQL's now() does not allow.


@pytest.fixture
def memory() -> tuple[Backend, InMemoryStore]:
    backend = memory_backend()
    assert backend.store is not None
    return backend, backend.store


async def test_memory_lease_ends_exactly_after_its_seconds(
    memory: tuple[Backend, InMemoryStore],
) -> None:
    backend, store = memory
    await _produce(backend, 1)
    [item] = await backend.queue.claim(10, 60)

    store.advance(59.999)
    assert await backend.queue.claim(10, 60) == []
    store.advance(0.001)
    assert [again.id for again in await backend.queue.claim(10, 60)] == [item.id]


async def test_memory_retry_is_due_after_its_delay(memory: tuple[Backend, InMemoryStore]) -> None:
    backend, store = memory
    await _produce(backend, 1)
    [item] = await backend.queue.claim(10, 60)
    await backend.queue.retry(item.id, "twilio: HTTP 429", 30)

    store.advance(29)
    assert await backend.queue.claim(10, 60) == []
    store.advance(1)
    [again] = await backend.queue.claim(10, 60)
    assert (again.id, again.attempts) == (item.id, 1)
