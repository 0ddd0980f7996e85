"""The dispatcher on in-memory fakes: seeded backoff, a retry budget in time, dead letters,
review, handler time limits, lease fencing, shutdown hand-back and bounded work."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from datetime import timedelta

import attrs
import pytest
import structlog

from nmc_adapters.memory import (
    InMemoryOutboxQueue,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryWakeups,
    OutboxRow,
)
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.shared.errors import NeedsReview
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import OutboxItem
from nmc_domain.shared.retry import RetryPolicies, RetryPolicy
from nmc_worker.dispatcher import Dispatcher, DispatcherOptions

POLICY = RetryPolicy(base_seconds=2.0, cap_seconds=60.0, give_up_seconds=600.0)
POLICIES = RetryPolicies(default=POLICY)
TOPIC = "message.queued.v1"


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


class Observed(list[tuple[str, str]]):
    """The dispatcher's observer: every (topic, result) it was told, in order."""

    def __call__(self, topic: str, result: str) -> None:
        self.append((topic, result))

    @property
    def results(self) -> list[str]:
        return [result for _, result in self]


class DeadLetters(list[tuple[DomainEvent, str]]):
    async def __call__(self, event: DomainEvent, error: str) -> None:
        self.append((event, error))


class FixedSource:
    """A UniformSource that always draws the same number."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def dispatcher(
    store: InMemoryStore,
    handler,
    seed: int = 42,
    *,
    rng=None,
    observe: Observed | None = None,
    dead_letters: DeadLetters | None = None,
    queue: InMemoryOutboxQueue | None = None,
    **options,
) -> Dispatcher:
    return Dispatcher(
        queue or InMemoryOutboxQueue(store),
        InMemoryWakeups(store),
        {MessageQueued: handler},
        POLICIES,
        rng or random.Random(seed),
        DispatcherOptions(**options),
        dead_letters={MessageQueued: dead_letters} if dead_letters is not None else None,
        observe=observe if observe is not None else Observed(),
    )


def snapshot(row: OutboxRow) -> dict[str, object]:
    return attrs.asdict(row)


# --- backoff ----------------------------------------------------------------------------------


async def test_a_failure_is_retried_after_the_seeded_full_jitter_delay() -> None:
    store = InMemoryStore()
    await produce(store)
    handler, observed = Flaky(failures=2), Observed()
    subject = dispatcher(store, handler, seed=42, observe=observed)
    draws = random.Random(42)  # the same seed, drawn here: delay = draw * ceiling

    assert await subject.run_once() == 1
    [row] = store.outbox_rows
    first_delay = draws.random() * 2.0  # attempt 1: the ceiling is the base, 2 s
    assert row.available_at == store.now + timedelta(seconds=first_delay)
    assert (row.attempts, row.last_error) == (1, "RuntimeError: twilio: HTTP 503 (call 1)")
    assert row.lease_token is None

    store.advance(first_delay)
    assert await subject.run_once() == 1
    second_delay = draws.random() * 4.0  # attempt 2: the ceiling doubled
    assert row.available_at == store.now + timedelta(seconds=second_delay)
    assert (row.attempts, row.last_error) == (2, "RuntimeError: twilio: HTTP 503 (call 2)")

    store.advance(second_delay)
    assert await subject.run_once() == 1
    assert row.dispatched_at == store.now
    assert row.attempts == 2
    assert len(handler.seen) == 3
    assert observed == [(TOPIC, "retry"), (TOPIC, "retry"), (TOPIC, "done")]


async def test_not_due_before_the_backoff_ends() -> None:
    store = InMemoryStore()
    await produce(store)
    subject = dispatcher(store, Flaky(failures=1), seed=7)
    await subject.run_once()
    [row] = store.outbox_rows

    store.advance((row.available_at - store.now).total_seconds() / 2)

    assert await subject.run_once() == 0


# --- the budget is time ------------------------------------------------------------------------


async def test_dead_once_the_row_outlives_its_budget_and_the_dead_letter_hears_why() -> None:
    store = InMemoryStore()
    [event] = await produce(store)
    handler, observed, dead = Flaky(failures=99), Observed(), DeadLetters()
    subject = dispatcher(store, handler, observe=observed, dead_letters=dead)

    assert await subject.run_once() == 1  # age 0: retried
    [row] = store.outbox_rows
    assert row.dead_at is None
    store.advance(600.0)  # the row is now exactly give_up_seconds old

    assert await subject.run_once() == 1

    assert row.dead_at == store.now
    assert (row.attempts, row.last_error) == (2, "RuntimeError: twilio: HTTP 503 (call 2)")
    assert dead == [(event, "RuntimeError: twilio: HTTP 503 (call 2)")]
    assert observed == [(TOPIC, "retry"), (TOPIC, "dead")]
    store.advance(3600.0)
    assert await subject.run_once() == 0  # the dead row is kept but never claimed again
    assert len(handler.seen) == 2


async def test_many_quick_failures_do_not_kill_a_young_row() -> None:
    # Eight failures used to be the end; now a row fails as often as it must within its budget.
    store = InMemoryStore()
    await produce(store)
    handler = Flaky(failures=99)
    subject = dispatcher(store, handler, rng=FixedSource(0.0))  # every retry due at once

    for _ in range(20):
        assert await subject.run_once() == 1

    [row] = store.outbox_rows
    assert (row.attempts, row.dead_at) == (20, None)
    assert len(handler.seen) == 20


async def test_the_last_retry_is_clamped_to_the_give_up_moment_and_then_the_row_dies() -> None:
    store = InMemoryStore()
    await produce(store)
    handler, observed = Flaky(failures=99), Observed()
    subject = dispatcher(store, handler, rng=FixedSource(0.75), observe=observed)
    [row] = store.outbox_rows
    deadline = row.created_at + timedelta(seconds=600)

    await subject.run_once()
    assert row.available_at == store.now + timedelta(seconds=1.5)  # 0.75 * 2 s

    store.advance(599.0)  # one second of budget left: the draw (0.75 * 4 s = 3 s) is clamped
    await subject.run_once()
    assert row.dead_at is None
    assert deadline - timedelta(milliseconds=100) <= row.available_at <= deadline

    store.advance(1.0)
    await subject.run_once()  # the last try runs at the give-up moment, fails, and is final
    assert row.dead_at == store.now
    assert len(handler.seen) == 3
    assert observed.results == ["retry", "retry", "dead"]


async def test_an_event_without_handler_is_dead_lettered_at_once() -> None:
    store = InMemoryStore()
    await produce(store)
    observed = Observed()
    subject = Dispatcher(
        InMemoryOutboxQueue(store),
        InMemoryWakeups(store),
        {},
        POLICIES,
        random.Random(1),
        observe=observed,
    )

    await subject.run_once()

    [row] = store.outbox_rows
    assert row.dead_at is not None
    assert row.last_error == "no handler for topic 'message.queued.v1'"
    assert observed == [(TOPIC, "dead")]


# --- review, time limits -----------------------------------------------------------------------


async def test_needs_review_sets_the_row_aside_without_retrying_it() -> None:
    store = InMemoryStore()
    await produce(store)
    calls: list[DomainEvent] = []
    observed, dead = Observed(), DeadLetters()

    async def ambiguous(event: DomainEvent) -> None:
        calls.append(event)
        raise NeedsReview("1 provider record(s) could be this message or another")

    subject = dispatcher(store, ambiguous, observe=observed, dead_letters=dead)

    assert await subject.run_once() == 1

    [row] = store.outbox_rows
    assert row.needs_review_at == store.now
    assert (row.dispatched_at, row.dead_at, row.attempts) == (None, None, 0)
    assert row.last_error == "1 provider record(s) could be this message or another"
    assert row.lease_token is None
    assert observed == [(TOPIC, "needs_review")]
    assert dead == []
    store.advance(7 * 3600.0)  # past the lease and the budget: still never claimed again
    assert await subject.run_once() == 0
    assert len(calls) == 1


async def test_a_handler_over_its_time_limit_is_cut_off_and_retried() -> None:
    store = InMemoryStore()
    await produce(store)
    cancelled = asyncio.Event()
    observed = Observed()

    async def stuck(event: DomainEvent) -> None:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    subject = dispatcher(
        store, stuck, observe=observed, handler_timeout_seconds=0.02, lease_seconds=60.0
    )

    assert await asyncio.wait_for(subject.run_once(), 5) == 1

    assert cancelled.is_set()
    [row] = store.outbox_rows
    assert (row.attempts, row.last_error) == (1, "handler timed out after 0.02 s")
    assert (row.dispatched_at, row.dead_at) == (None, None)
    assert row.available_at < store.now + timedelta(seconds=2.0)  # backoff, not the lease
    assert observed == [(TOPIC, "retry")]


@pytest.mark.parametrize(
    ("timeout", "lease"),
    [
        pytest.param(60.0, 60.0, id="equal-to-the-lease"),
        pytest.param(90.0, 60.0, id="over-the-lease"),
        pytest.param(0.0, 60.0, id="zero"),
        pytest.param(-1.0, 60.0, id="negative"),
    ],
)
def test_a_handler_time_limit_must_sit_under_the_lease(timeout: float, lease: float) -> None:
    with pytest.raises(ValueError, match="handler_timeout_seconds"):
        DispatcherOptions(handler_timeout_seconds=timeout, lease_seconds=lease)


def test_the_default_time_limit_sits_under_the_default_lease() -> None:
    options = DispatcherOptions()

    assert (options.handler_timeout_seconds, options.lease_seconds) == (30.0, 60.0)


# --- reclaimed rows ----------------------------------------------------------------------------


async def test_a_reclaimed_row_counts_the_lapsed_claim_as_an_attempt() -> None:
    store = InMemoryStore()
    await produce(store)
    queue = InMemoryOutboxQueue(store)
    [first] = await queue.claim(10, 60)  # this worker dies holding the row
    assert (first.attempts, first.reclaimed) == (0, False)

    store.advance(59.999)
    assert await queue.claim(10, 60) == []  # the lease still holds
    store.advance(0.001)
    [again] = await queue.claim(10, 60)

    assert (again.id, again.attempts, again.reclaimed, again.reclaims) == (first.id, 1, True, 1)
    assert again.token != first.token
    assert again.age_seconds == 60.0
    [row] = store.outbox_rows
    assert (row.attempts, row.lease_token) == (1, again.token)


async def test_a_reclaimed_row_within_its_budget_runs_again() -> None:
    store = InMemoryStore()
    await produce(store)
    await InMemoryOutboxQueue(store).claim(10, 60)  # a worker that died
    store.advance(599.0)
    handler, observed = Flaky(failures=0), Observed()
    subject = dispatcher(store, handler, observe=observed)

    assert await subject.run_once() == 1

    [row] = store.outbox_rows
    assert len(handler.seen) == 1
    assert row.dispatched_at == store.now
    assert row.attempts == 1  # the lapsed claim
    assert observed == [(TOPIC, "done")]


async def test_a_reclaimed_row_past_its_budget_is_buried_without_running_the_handler() -> None:
    store = InMemoryStore()
    [event] = await produce(store)
    await InMemoryOutboxQueue(store).claim(10, 60)  # a worker that died (or crashed on it)
    store.advance(600.0)
    handler, observed, dead = Flaky(failures=0), Observed(), DeadLetters()
    subject = dispatcher(store, handler, observe=observed, dead_letters=dead)

    assert await subject.run_once() == 1

    [row] = store.outbox_rows
    assert handler.seen == []
    assert row.dead_at == store.now
    assert row.dispatched_at is None
    error = "gave up: its worker stopped or hung 1 time(s) (lease lapsed)"
    assert row.last_error == error
    assert dead == [(event, error)]
    assert observed == [(TOPIC, "dead")]


@pytest.mark.parametrize(("lapsed", "buried"), [(4, False), (5, True)])
async def test_a_row_that_kills_its_worker_every_time_ends_dead_instead_of_looping(
    lapsed: int, buried: bool
) -> None:
    store = InMemoryStore()
    [event] = await produce(store)
    queue = InMemoryOutboxQueue(store)
    # Each claim's worker dies before recording anything; the lease (60 s) brings it back.
    for claims in range(lapsed):
        [item] = await queue.claim(10, 60)
        assert (item.attempts, item.reclaims) == (claims, claims)
        store.advance(60.0)
    handler, dead = Flaky(failures=0), DeadLetters()
    subject = dispatcher(store, handler, dead_letters=dead)

    assert await subject.run_once() == 1  # well within the 600 s budget either way

    [row] = store.outbox_rows
    assert row.reclaims == lapsed
    if buried:  # the policy's max_reclaims (5 by default) is reached: not run again
        error = "gave up: its worker stopped or hung 5 time(s) (lease lapsed)"
        assert (row.dead_at, row.last_error) == (store.now, error)
        assert dead == [(event, error)]
        assert handler.seen == []
    else:
        assert (row.dead_at, row.dispatched_at) == (None, store.now)
        assert handler.seen == [event]


async def test_max_reclaims_is_the_policys_own() -> None:
    store = InMemoryStore()
    await produce(store)
    await InMemoryOutboxQueue(store).claim(10, 60)
    store.advance(60.0)
    handler, observed = Flaky(failures=0), Observed()
    strict = RetryPolicy(base_seconds=2.0, cap_seconds=60.0, give_up_seconds=600.0, max_reclaims=1)
    subject = Dispatcher(
        InMemoryOutboxQueue(store),
        InMemoryWakeups(store),
        {MessageQueued: handler},
        RetryPolicies(default=POLICY, by_event={MessageQueued: strict}),
        random.Random(1),
        observe=observed,
    )

    await subject.run_once()

    [row] = store.outbox_rows
    assert row.last_error == "gave up: its worker stopped or hung 1 time(s) (lease lapsed)"
    assert handler.seen == []
    assert observed == [(TOPIC, "dead")]


# --- fencing -----------------------------------------------------------------------------------


async def stale_and_current(store: InMemoryStore) -> tuple[OutboxItem, OutboxItem]:
    """A claim whose lease lapsed (its worker hung) and the claim that took the row over."""
    queue = InMemoryOutboxQueue(store)
    [stale] = await queue.claim(10, 60)
    store.advance(60.0)
    [current] = await queue.claim(10, 60)
    assert current.id == stale.id
    return stale, current


async def test_a_stale_claim_can_record_no_outcome() -> None:
    store = InMemoryStore()
    await produce(store)
    stale, current = await stale_and_current(store)
    queue = InMemoryOutboxQueue(store)
    [row] = store.outbox_rows
    before = snapshot(row)

    assert len(await queue.complete([stale])) == 0
    assert await queue.retry(stale, "late failure", 0) is False
    assert await queue.bury(stale, "late bury") is False
    assert await queue.set_aside(stale, "late review") is False
    assert await queue.release([stale]) == 0

    assert snapshot(row) == before
    assert row.lease_token == current.token
    assert len(await queue.complete([current])) == 1  # the current claim still can
    assert row.dispatched_at == store.now


@pytest.mark.parametrize("outcome", ["failure", "needs_review", "no_handler"])
async def test_a_stale_claims_outcome_is_lease_lost(outcome: str) -> None:
    store = InMemoryStore()
    await produce(store)
    stale, current = await stale_and_current(store)
    [row] = store.outbox_rows
    before = snapshot(row)
    observed = Observed()

    async def failing(event: DomainEvent) -> None:
        raise RuntimeError("twilio: HTTP 503")

    async def ambiguous(event: DomainEvent) -> None:
        raise NeedsReview("two of ours")

    handlers = {"failure": {MessageQueued: failing}, "needs_review": {MessageQueued: ambiguous}}
    subject = Dispatcher(
        InMemoryOutboxQueue(store),
        InMemoryWakeups(store),
        handlers.get(outcome, {}),
        POLICIES,
        random.Random(3),
        observe=observed,
    )

    await subject.process(stale)

    assert observed == [(TOPIC, "lease_lost")]
    assert snapshot(row) == before
    assert row.lease_token == current.token


async def test_a_handler_outliving_its_lease_cannot_touch_the_row_taken_over() -> None:
    store = InMemoryStore()
    await produce(store)
    other_worker = InMemoryOutboxQueue(store)
    taken_over: list[OutboxItem] = []
    observed = Observed()

    async def slow_then_failing(event: DomainEvent) -> None:
        store.advance(61.0)  # meanwhile our lease lapsed and another worker took the row
        taken_over.extend(await other_worker.claim(10, 60))
        raise RuntimeError("twilio: HTTP 503")

    subject = dispatcher(store, slow_then_failing, observe=observed)

    assert await subject.run_once() == 1

    [row] = store.outbox_rows
    [theirs] = taken_over
    assert observed == [(TOPIC, "lease_lost")]
    assert (row.lease_token, row.attempts, row.last_error) == (theirs.token, 1, None)
    assert row.available_at == store.now + timedelta(seconds=60)  # their lease, not our backoff


# --- observer, log context ---------------------------------------------------------------------


async def test_each_rows_result_is_observed_with_its_topic() -> None:
    store = InMemoryStore()
    await produce(store, 3)
    observed = Observed()
    calls = 0

    async def second_fails(event: DomainEvent) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("boom")

    subject = dispatcher(store, second_fails, observe=observed, concurrency=1, batch_size=1)
    for _ in range(3):
        assert await subject.run_once() == 1

    assert observed == [(TOPIC, "done"), (TOPIC, "retry"), (TOPIC, "done")]


async def test_the_rows_request_id_is_bound_to_the_log_context_of_its_handler() -> None:
    store = InMemoryStore()
    with structlog.contextvars.bound_contextvars(request_id="req-7f3a9c"):
        await produce(store)
    await produce(store)  # written outside any request
    seen: list[dict[str, object]] = []

    async def remember(event: DomainEvent) -> None:
        seen.append(dict(structlog.contextvars.get_contextvars()))

    subject = dispatcher(store, remember, batch_size=1)
    assert await subject.run_once() == 1
    assert await subject.run_once() == 1

    with_request, without = store.outbox_rows
    assert (with_request.request_id, without.request_id) == ("req-7f3a9c", None)
    first, second = seen
    assert (first["outbox_id"], first["topic"], first["request_id"]) == (
        with_request.id,
        TOPIC,
        "req-7f3a9c",
    )
    assert (second["outbox_id"], second["topic"]) == (without.id, TOPIC)
    assert "request_id" not in second
    assert "outbox_id" not in structlog.contextvars.get_contextvars()


# --- run, shutdown -----------------------------------------------------------------------------


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


async def test_shutdown_hands_back_an_unfinished_row_after_the_grace() -> None:
    store = InMemoryStore()
    await produce(store)
    started, cancelled = asyncio.Event(), asyncio.Event()
    observed = Observed()

    async def forever(event: DomainEvent) -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    stop = asyncio.Event()
    subject = dispatcher(
        store,
        forever,
        observe=observed,
        poll_seconds=0.01,
        shutdown_grace_seconds=0.05,
        handler_timeout_seconds=30.0,
        lease_seconds=60.0,
    )
    task = asyncio.create_task(subject.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    [row] = store.outbox_rows
    assert row.available_at == store.now + timedelta(seconds=60)  # leased while it runs
    assert subject.claiming is True

    stop.set()
    await asyncio.wait_for(task, 5)

    assert cancelled.is_set()
    assert subject.claiming is False
    assert row.available_at == store.now  # due at once for the next worker
    assert (row.lease_token, row.attempts, row.last_error) == (None, 0, None)
    assert (row.dispatched_at, row.dead_at, row.needs_review_at) == (None, None, None)
    assert observed == [(TOPIC, "released")]
    [again] = await InMemoryOutboxQueue(store).claim(10, 60)
    assert (again.attempts, again.reclaimed) == (0, False)  # a hand-back is not an attempt


async def test_shutdown_lets_a_handler_finish_within_the_grace() -> None:
    store = InMemoryStore()
    await produce(store)
    started, stop = asyncio.Event(), asyncio.Event()
    observed = Observed()

    async def short(event: DomainEvent) -> None:
        started.set()
        await asyncio.sleep(0.02)

    subject = dispatcher(
        store, short, observe=observed, poll_seconds=0.01, shutdown_grace_seconds=5.0
    )
    task = asyncio.create_task(subject.run(stop))
    await asyncio.wait_for(started.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)

    [row] = store.outbox_rows
    assert row.dispatched_at == store.now
    assert row.lease_token is None
    assert observed == [(TOPIC, "done")]


class CountingQueue(InMemoryOutboxQueue):
    """The in-memory queue, remembering each complete() call."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__(store)
        self.completions: list[list[int]] = []

    async def complete(self, items: Sequence[OutboxItem]) -> Sequence[int]:
        self.completions.append([item.id for item in items])
        return await super().complete(items)


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
        POLICIES,
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
