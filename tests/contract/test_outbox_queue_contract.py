"""Outbox contract: producer rows appear on commit; the queue leases, retries, buries, completes.

Each claim carries a token, and only the current claim may record an outcome (the fence);
a claim whose lease lapsed counts as an attempt when the row is claimed again.

Runs on the fakes and on PostgreSQL. On PostgreSQL the clock is the database's now(), which no
test controls: shared checks use a delay of 0 ("due again at once") or a long one ("not due"),
and bound times between two readings of the clock. Checks that move the clock are memory-only.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs
import pytest
import structlog
from sqlalchemy import select

from nmc_adapters.memory import InMemoryStore
from nmc_adapters.postgres.shared.tables import outbox_events
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
    [short] = await queue.claim(10, 0)  # the other row, lease 0
    assert (_message_ids([short]), short.attempts, short.reclaimed) == (produced[1:], 0, False)
    # A lease of 0 has ended at once (as a crashed worker's lease ends): claimable again, and
    # the lapsed claim counts as an attempt.
    again = await queue.claim(10, HOUR)
    assert _message_ids(again) == produced[1:]
    assert (again[0].attempts, again[0].reclaimed) == (1, True)


async def test_concurrent_claims_get_disjoint_rows(queue_backend: Backend) -> None:
    _, produced = await _produce(queue_backend, 4)
    batches = await asyncio.gather(*(queue_backend.queue.claim(2, HOUR) for _ in range(3)))

    claimed = [message_id for batch in batches for message_id in _message_ids(batch)]
    assert sorted(claimed) == sorted(produced)


async def test_retry_counts_the_attempt_and_delays_the_row(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    _, [soon, _later] = await _produce(queue_backend, 2)
    first, second = await queue.claim(10, HOUR)

    assert await queue.retry(first, "twilio: HTTP 503", 0) is True
    before = await queue_backend.clock()
    assert await queue.retry(second, "x" * 5000, HOUR) is True
    after = await queue_backend.clock()

    [again] = await queue.claim(10, HOUR)  # delay 0: due at once; the other is not due
    assert (_message_ids([again]), again.attempts, again.reclaimed) == ([soon], 1, False)
    row = await _row(queue_backend, second.id)
    assert (row.attempts, row.last_error) == (1, "x" * 2000)  # errors are kept truncated
    assert before + timedelta(hours=1) <= row.available_at <= after + timedelta(hours=1)
    assert (row.dispatched_at, row.dead_at) == (None, None)
    assert (await _row(queue_backend, first.id)).last_error == "twilio: HTTP 503"


async def test_bury_dead_letters_the_row_and_keeps_it(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [item] = await queue.claim(10, 0)
    assert await queue.retry(item, "twilio: HTTP 503", 0) is True
    [item] = await queue.claim(10, 0)

    assert await queue.bury(item, "SmsRejected: 21211 invalid To number") is True

    assert await queue.claim(10, HOUR) == []  # lease 0 has ended, yet the row stays buried
    row = await _row(queue_backend, item.id)
    assert (row.attempts, row.last_error) == (2, "SmsRejected: 21211 invalid To number")
    assert row.dead_at is not None
    assert row.dispatched_at is None


async def test_complete_marks_the_row_dispatched_and_keeps_it(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [item] = await queue.claim(10, 0)

    assert len(await queue.complete([item])) == 1

    assert await queue.claim(10, HOUR) == []
    row = await _row(queue_backend, item.id)
    assert (row.topic, row.attempts, row.dead_at) == ("message.queued.v1", 0, None)
    assert row.dispatched_at is not None


async def test_complete_takes_several_rows_at_once(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 3)
    first, second, third = await queue.claim(3, 0)

    assert len(await queue.complete([first, third])) == 2
    assert len(await queue.complete([])) == 0

    [left] = await queue.claim(10, HOUR)
    assert left.id == second.id
    assert (await _row(queue_backend, first.id)).dispatched_at is not None
    assert (await _row(queue_backend, third.id)).dispatched_at is not None


async def test_a_finished_row_cannot_be_finished_again(queue_backend: Backend) -> None:
    # A worker whose lease ran out may report after another worker dispatched the row.
    queue = queue_backend.queue
    await _produce(queue_backend, 2)
    dispatched, dead = await queue.claim(2, 0)
    assert len(await queue.complete([dispatched])) == 1
    assert await queue.bury(dead, "SmsRejected: 21211 invalid To number") is True

    assert await queue.bury(dispatched, "late failure report") is False
    assert await queue.retry(dead, "late retry", 0) is False
    assert await queue.set_aside(dead, "late review") is False
    assert len(await queue.complete([dead, dispatched])) == 0
    assert await queue.release([dead, dispatched]) == 0

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
    ghost = OutboxItem(id=missing, topic="message.queued.v1", event=None, attempts=0)

    assert len(await queue.complete([ghost])) == 0
    assert await queue.retry(ghost, "gone", 0) is False
    assert await queue.bury(ghost, "gone") is False
    assert await queue.set_aside(ghost, "gone") is False
    assert await queue.release([ghost]) == 0
    assert await queue_backend.outbox_row(missing) is None


# --- claims, tokens and fencing ------------------------------------------------------------------


@attrs.frozen
class Claim:
    """The columns the claim and its fence keep (not in OutboxRowView)."""

    lease_token: UUID | None
    needs_review_at: datetime | None
    request_id: str | None


ClaimReader = Callable[[int], Awaitable[Claim]]


@pytest.fixture
def claim_of(queue_backend: Backend, request: pytest.FixtureRequest) -> ClaimReader:
    """Reads a row's lease token, review mark and request id on either backend."""
    store = queue_backend.store
    if store is not None:

        async def from_memory(item_id: int) -> Claim:
            row = store.outbox_row(item_id)
            return Claim(row.lease_token, row.needs_review_at, row.request_id)

        return from_memory
    engine = request.getfixturevalue("engine")
    columns = (outbox_events.c.lease_token, outbox_events.c.needs_review_at)
    query = select(*columns, outbox_events.c.request_id)

    async def from_postgres(item_id: int) -> Claim:
        async with engine.connect() as conn:
            found = (await conn.execute(query.where(outbox_events.c.id == item_id))).one()
        return Claim(found.lease_token, found.needs_review_at, found.request_id)

    return from_postgres


async def test_each_claim_carries_a_fresh_token_kept_on_the_row(
    queue_backend: Backend, claim_of: ClaimReader
) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 2)
    first, second = await queue.claim(2, 0)
    [again] = await queue.claim(1, HOUR)  # the first row again: its lease 0 has ended

    assert isinstance(first.token, UUID)
    assert len({first.token, second.token, again.token}) == 3
    assert again.id == first.id
    assert (await claim_of(first.id)).lease_token == again.token
    assert (await claim_of(second.id)).lease_token == second.token


async def test_only_the_current_claim_may_record_an_outcome(
    queue_backend: Backend, claim_of: ClaimReader
) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [stale] = await queue.claim(1, 0)  # its worker hangs past the lease…
    [current] = await queue.claim(1, HOUR)  # …and another worker takes the row over
    assert current.id == stale.id
    row_before, claim_before = await _row(queue_backend, stale.id), await claim_of(stale.id)

    assert len(await queue.complete([stale])) == 0
    assert await queue.retry(stale, "late failure", 0) is False
    assert await queue.bury(stale, "late bury") is False
    assert await queue.set_aside(stale, "late review") is False
    assert await queue.release([stale]) == 0

    assert await _row(queue_backend, stale.id) == row_before
    assert await claim_of(stale.id) == claim_before
    assert claim_before.lease_token == current.token
    assert len(await queue.complete([current])) == 1
    done = await _row(queue_backend, current.id)
    assert done.dispatched_at is not None
    assert (await claim_of(current.id)).lease_token is None


async def test_complete_counts_only_the_rows_still_held(queue_backend: Backend) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 2)
    stale, kept = await queue.claim(2, 0)
    await queue.claim(1, HOUR)  # takes the first row over (both leases ended; oldest first)

    assert len(await queue.complete([stale, kept])) == 1

    assert (await _row(queue_backend, stale.id)).dispatched_at is None
    assert (await _row(queue_backend, kept.id)).dispatched_at is not None


async def test_a_lapsed_claim_counts_as_an_attempt_on_the_next_claim(
    queue_backend: Backend,
) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [first] = await queue.claim(1, 0)
    [second] = await queue.claim(1, 0)
    [third] = await queue.claim(1, HOUR)

    assert [(c.attempts, c.reclaimed, c.reclaims) for c in (first, second, third)] == [
        (0, False, 0),
        (1, True, 1),
        (2, True, 2),
    ]
    assert (await _row(queue_backend, third.id)).attempts == 2
    # A recorded outcome clears the claim: the next claim is not a reclaim (the count stays).
    assert await queue.retry(third, "twilio: HTTP 503", 0) is True
    [fourth] = await queue.claim(1, HOUR)
    assert (fourth.attempts, fourth.reclaimed, fourth.reclaims) == (3, False, 2)


async def test_set_aside_takes_the_row_out_of_the_queue_for_review(
    queue_backend: Backend, claim_of: ClaimReader
) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 1)
    [item] = await queue.claim(1, 0)  # lease 0: it would be due again at once

    assert await queue.set_aside(item, "two of ours could match one provider record") is True

    assert await queue.claim(10, HOUR) == []
    row = await _row(queue_backend, item.id)
    assert (row.attempts, row.dispatched_at, row.dead_at) == (0, None, None)
    assert row.last_error == "two of ours could match one provider record"
    claim = await claim_of(item.id)
    assert claim.needs_review_at is not None
    assert claim.lease_token is None
    # Set aside, it is no longer pending: nothing else can be recorded against it.
    assert len(await queue.complete([item])) == 0
    assert await queue.retry(item, "late", 0) is False
    assert await queue.bury(item, "late") is False


async def test_release_makes_the_row_due_at_once_without_counting_an_attempt(
    queue_backend: Backend, claim_of: ClaimReader
) -> None:
    queue = queue_backend.queue
    await _produce(queue_backend, 2)
    held, finished = await queue.claim(2, HOUR)
    assert len(await queue.complete([finished])) == 1

    before = await queue_backend.clock()
    assert await queue.release([held, finished]) == 1  # the finished row is not handed back
    after = await queue_backend.clock()

    row = await _row(queue_backend, held.id)
    assert before <= row.available_at <= after
    assert (row.attempts, row.last_error) == (0, None)
    assert (await claim_of(held.id)).lease_token is None
    [again] = await queue.claim(10, HOUR)
    assert (again.id, again.attempts, again.reclaimed, again.reclaims) == (held.id, 0, False, 0)
    assert await queue.release([held]) == 0  # the old claim is gone


async def test_a_claim_reports_the_rows_age(queue_backend: Backend) -> None:
    before = await queue_backend.clock()
    await _produce(queue_backend, 1)
    [item] = await queue_backend.queue.claim(1, HOUR)
    after = await queue_backend.clock()

    assert 0.0 <= item.age_seconds <= (after - before).total_seconds()


async def test_the_request_id_of_the_writer_travels_with_the_row(
    queue_backend: Backend, claim_of: ClaimReader
) -> None:
    request_id = f"req-{uuid.uuid4().hex[:12]}"
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        _, [traced] = await _produce(queue_backend, 1)
    _, [untraced] = await _produce(queue_backend, 1)

    first, second = await queue_backend.queue.claim(10, HOUR)

    assert (_message_ids([first, second])) == [traced, untraced]
    assert (first.request_id, second.request_id) == (request_id, None)
    assert (await claim_of(first.id)).request_id == request_id
    assert (await claim_of(second.id)).request_id is None


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
    [again] = await backend.queue.claim(10, 60)
    assert (again.id, again.attempts, again.reclaimed) == (item.id, 1, True)


async def test_memory_retry_is_due_after_its_delay(memory: tuple[Backend, InMemoryStore]) -> None:
    backend, store = memory
    await _produce(backend, 1)
    [item] = await backend.queue.claim(10, 60)
    assert await backend.queue.retry(item, "twilio: HTTP 429", 30) is True

    store.advance(29)
    assert await backend.queue.claim(10, 60) == []
    store.advance(1)
    [again] = await backend.queue.claim(10, 60)
    assert (again.id, again.attempts, again.reclaimed) == (item.id, 1, False)


async def test_memory_age_is_measured_from_when_the_row_was_written(
    memory: tuple[Backend, InMemoryStore],
) -> None:
    backend, store = memory
    await _produce(backend, 1)
    store.advance(90)
    [item] = await backend.queue.claim(10, 60)
    assert item.age_seconds == 90.0

    store.advance(60)
    [again] = await backend.queue.claim(10, 60)
    assert again.age_seconds == 150.0


async def test_memory_release_is_due_at_the_current_time(
    memory: tuple[Backend, InMemoryStore],
) -> None:
    backend, store = memory
    await _produce(backend, 1)
    [item] = await backend.queue.claim(10, 60)
    store.advance(5)

    assert await backend.queue.release([item]) == 1

    row = store.outbox_row(item.id)
    assert (row.available_at, row.lease_token, row.attempts) == (store.now, None, 0)
