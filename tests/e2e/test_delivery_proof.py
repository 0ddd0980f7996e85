"""Delivery proofs with real processes (issue 9): the worker program against real PostgreSQL and
a local fake Twilio over HTTP, killed, faulted and raced. Each text must reach the provider
exactly once (or end failed/dead), never twice.

- crash: 2,000 queued text-backs; the worker is SIGKILLed 10 times at seeded random points of
  the drain and restarted each time: 0 lost, 0 duplicates.
- faults: 30% of sends answered 500/503/429 or too late, some 500s after the message was
  created (Twilio does that); numbers Twilio rejects (21211) are asked once, never again.
- two workers, the provider slower than the lease: no duplicate send.
"""

from __future__ import annotations

import asyncio
import collections
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from sqlalchemy import Engine, create_engine, func, select

from nmc_adapters.postgres import PgUnitOfWork, sqlalchemy_url
from nmc_adapters.postgres import create_engine as create_async_engine
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_domain.telephony.missed_call import (
    CallStatusReport,
    ReportOutcome,
    report_call_status,
)
from tests.support.cli import clean_env
from tests.support.faulty_twilio import Fault, FaultyTwilio, message_id_of, seeded_faults
from tests.support.processes import Running
from tests.support.tenants import onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, call_sid
from tests.support.worker_process import StandbyWorker

pytestmark = pytest.mark.slow

TOKEN = "e2e-delivery-proof-auth-token"
TOPIC = "message.queued.v1"
T = TypeVar("T")


@pytest.fixture(scope="module")
def db(database_url: str) -> Iterator[Engine]:
    """The test server's superuser on the module's database: looks past row-level security."""
    engine = create_engine(sqlalchemy_url(database_url))
    yield engine
    engine.dispose()


def callers(block: int, n: int) -> list[str]:
    """n callers of their own (the module has its own database): the same numbers every run,
    so faults drawn from a seed and the number are the same every run."""
    return [f"+1555{block}{i:06d}" for i in range(n)]


async def queue_missed_calls(database_url: str, callers: list[str]) -> tuple[uuid.UUID, str]:
    """A new approved tenant and one missed call (hence one queued text-back) per caller,
    through the real use case, eight at a time."""
    engine = create_async_engine(database_url, pool_size=8)
    try:
        tenant, number = await onboard(lambda: PgUnitOfWork(engine))
        gate = asyncio.Semaphore(8)

        async def one(caller: str) -> ReportOutcome:
            async with gate:
                report = CallStatusReport(call_sid(), number, caller, "no-answer", 0)
                return (await report_call_status(PgUnitOfWork(engine), report)).outcome

        outcomes = await asyncio.gather(*(one(c) for c in callers))
    finally:
        await engine.dispose()
    assert collections.Counter(outcomes) == {ReportOutcome.TEXT_BACK_QUEUED: len(callers)}
    return tenant.id, number


def worker_env(database_url: str, fake: FaultyTwilio, **more: str) -> dict[str, str]:
    return clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=PUBLIC_BASE_URL,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_TWILIO_API_BASE=fake.base_url,
        **more,
    )


def wait_until(probe: Callable[[], T], what: str, within: float, logs: Callable[[], str]) -> T:
    deadline = time.monotonic() + within
    while not (result := probe()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s (last: {result!r})\n{logs()}")
        time.sleep(0.05)
    return result


def text_states(db: Engine, tenant_id: uuid.UUID) -> dict[str, tuple[str, str | None]]:
    """message id -> (status, provider_sid) of the tenant's outbound texts."""
    c = messages.c
    query = select(c.id, c.status, c.provider_sid).where(c.tenant_id == tenant_id)
    with db.connect() as conn:
        return {str(row.id): (row.status, row.provider_sid) for row in conn.execute(query)}


def outbox_counts(db: Engine, tenant_id: uuid.UUID) -> dict[str, int]:
    """The tenant's text rows: pending (neither dispatched, dead nor set aside), dead, set
    aside, and the attempts they counted."""
    c = outbox_events.c
    pending = c.dispatched_at.is_(None) & c.dead_at.is_(None) & c.needs_review_at.is_(None)
    query = select(
        func.count(),
        func.count().filter(pending),
        func.count().filter(c.dead_at.is_not(None)),
        func.count().filter(c.needs_review_at.is_not(None)),
        func.coalesce(func.sum(c.attempts), 0),
        func.count().filter(c.attempts > 0),
    ).where(c.tenant_id == tenant_id, c.topic == TOPIC)
    with db.connect() as conn:
        total, waiting, dead, review, attempts, retried = conn.execute(query).one()
    return {
        "rows": total,
        "pending": waiting,
        "dead": dead,
        "needs_review": review,
        "attempts": attempts,
        "rows_with_attempts": retried,
    }


def drained(db: Engine, tenant_id: uuid.UUID) -> bool:
    counts = outbox_counts(db, tenant_id)
    return counts["rows"] > 0 and counts["pending"] == 0


def sends_by_message(fake: FaultyTwilio) -> dict[str, list[str]]:
    """message id -> the provider sids the fake created for it."""
    found: dict[str, list[str]] = collections.defaultdict(list)
    for message in fake.messages:
        found[message_id_of(message) or f"unknown:{message.to}"].append(message.sid)
    return dict(found)


def check_sent_once(
    states: dict[str, tuple[str, str | None]], sends: dict[str, list[str]]
) -> tuple[list[str], list[str], list[str]]:
    """(lost, duplicated, mismatched) message ids; a text with no provider record is lost
    unless it ended failed."""
    lost = [m for m, (status, _) in states.items() if not sends.get(m) and status != "failed"]
    duplicated = [m for m, sids in sends.items() if len(sids) > 1]
    mismatched = [
        m for m, (_, sid) in states.items() if len(sends.get(m, [])) == 1 and sends[m] != [sid]
    ]
    return lost, duplicated, mismatched


def last_lines(*workers: Running, n: int = 40) -> str:
    return "\n".join(
        f"--- worker {i} (exit {w.process.poll()}) ---\n" + "\n".join(w.lines[-n:])
        for i, w in enumerate(workers)
    )


def test_sigkilled_worker_loses_and_duplicates_nothing(database_url, db) -> None:
    count, kills = 2_000, 10
    rng = random.Random(20_251_130)
    options = ["--lease-seconds", "2", "--handler-timeout", "1", "--poll-interval", "0.2"]
    # Each kill comes once the provider holds a seeded random number of texts, so all ten land
    # mid-drain however fast this machine is; the sends in flight then are the ones at stake.
    marks = [120 + i * 170 + rng.randrange(120) for i in range(kills)]
    killed_at: list[tuple[int, int]] = []  # (texts at the provider, text rows pending)

    with FaultyTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        env = worker_env(database_url, fake)
        worker = StandbyWorker(env)  # starts up while the missed calls are written
        standby: StandbyWorker | None = None
        try:
            tenant_id, _ = asyncio.run(queue_missed_calls(database_url, callers(1, count)))
            assert outbox_counts(db, tenant_id)["pending"] == count
            worker.go(*options, "--seed", "1")
            for i, mark in enumerate(marks):
                standby = StandbyWorker(env)
                wait_until(
                    lambda mark=mark: len(fake.messages) >= mark,
                    f"{mark} texts at the provider before kill {i + 1}",
                    60,
                    lambda w=worker: last_lines(w),
                )
                time.sleep(rng.uniform(0, 0.05))
                assert worker.stop(signal.SIGKILL) == -signal.SIGKILL
                killed_at.append((len(fake.messages), outbox_counts(db, tenant_id)["pending"]))
                worker = standby.go(*options, "--seed", str(i + 2))
            wait_until(
                lambda: drained(db, tenant_id), "the outbox drains", 60, lambda: last_lines(worker)
            )
        finally:
            code = worker.stop()
            if standby is not None and standby is not worker:
                standby.stop(signal.SIGKILL)
    assert code == 0, worker.output

    states = text_states(db, tenant_id)
    sends = sends_by_message(fake)
    lost, duplicated, mismatched = check_sent_once(states, sends)
    counts = outbox_counts(db, tenant_id)
    assert len(states) == count
    assert all(pending > 0 for _, pending in killed_at), killed_at  # every kill was mid-drain
    assert (lost, duplicated, mismatched) == ([], [], []), (killed_at, counts)
    assert len(fake.messages) == count
    assert set(sends) == set(states)
    assert {status for status, _ in states.values()} == {"queued"}
    assert (counts["dead"], counts["needs_review"]) == (0, 0), counts
    # The kills did interrupt claims: those rows were taken again and counted an attempt.
    assert counts["rows_with_attempts"] > 0, counts


FAULT_MIX = {
    Fault("500", status=500, created=False): 20,
    Fault("500 after creating", status=500, created=True): 20,
    Fault("503", status=503, created=False): 15,
    Fault("429", status=429, created=False): 20,
    # Answered after the client's timeout: created (Twilio has it) or not.
    Fault("late, created", delay=2.2, created=True): 20,
    Fault("late 503", status=503, delay=2.2, created=False): 5,
}
INVALID = Fault("21211", status=400, code=21211, created=False)


def test_provider_faults_end_in_one_send_or_a_failure(database_url, db) -> None:
    count = 300
    numbers = callers(2, count)
    invalid = set(random.Random(7).sample(numbers, 10))
    rule = seeded_faults(90_210, rate=0.30, mix=FAULT_MIX, rejected=dict.fromkeys(invalid, INVALID))
    options = [
        "--lease-seconds", "3", "--handler-timeout", "2", "--poll-interval", "0.2",
        "--retry-base", "0.05", "--retry-cap", "0.5", "--seed", "5",
    ]  # fmt: skip

    with FaultyTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN, rule=rule) as fake:
        # The client gives up on a late answer after 0.5 s (the handler's limit, 2 s, would
        # cut it too, later).
        env = worker_env(database_url, fake, NMC_TWILIO_TIMEOUT_SECONDS="0.5")
        worker = StandbyWorker(env)
        try:
            tenant_id, _ = asyncio.run(queue_missed_calls(database_url, numbers))
            worker.go(*options)
            wait_until(
                lambda: drained(db, tenant_id), "the outbox drains", 60, lambda: last_lines(worker)
            )
        finally:
            code = worker.stop()
    assert code == 0, worker.output

    states = text_states(db, tenant_id)
    to_of = {message_id_of(m): m.to for m in fake.messages}
    sends = sends_by_message(fake)
    lost, duplicated, mismatched = check_sent_once(states, sends)
    faults = fake.fault_counts()
    counts = outbox_counts(db, tenant_id)
    assert (lost, duplicated, mismatched) == ([], [], []), (faults, counts)
    assert len(fake.messages) == count - len(invalid)
    # Every injected kind of fault happened, the one that created the message included.
    assert set(faults) >= {f.name for f in FAULT_MIX}, faults
    assert faults["500 after creating"] >= 5, faults
    # Numbers Twilio rejects: asked once, failed, never retried.
    assert {to: fake.sends_to[to] for to in invalid} == dict.fromkeys(invalid, 1)
    failed = [m for m, (status, _) in states.items() if status == "failed"]
    assert len(failed) == len(invalid)
    assert not set(failed) & set(sends)
    sent = {m for m, (status, sid) in states.items() if status == "queued" and sid}
    assert sent == set(sends)
    assert {to_of[m] for m in sent}.isdisjoint(invalid)
    assert (counts["dead"], counts["needs_review"]) == (0, 0), counts
    assert fake.requests.get("list", 0) > 0  # unknown outcomes were reconciled


def test_two_workers_and_a_provider_slower_than_the_lease_send_once(database_url, db) -> None:
    count = 40

    def first_send_is_slow(_to: str, n: int) -> Fault:
        # Created at once, answered after 2.5 s: longer than the 2 s lease.
        return Fault("slow first", delay=2.5) if n == 0 else Fault("ok")

    options = [
        "--lease-seconds", "2", "--handler-timeout", "1.5", "--poll-interval", "0.2",
        "--retry-base", "0.05", "--retry-cap", "0.5",
    ]  # fmt: skip
    with FaultyTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN, rule=first_send_is_slow) as fake:
        env = worker_env(database_url, fake)
        workers = [StandbyWorker(env), StandbyWorker(env)]
        try:
            tenant_id, _ = asyncio.run(queue_missed_calls(database_url, callers(3, count)))
            for worker, seed in zip(workers, ("21", "22"), strict=True):
                worker.go(*options, "--seed", seed)
            wait_until(
                lambda: drained(db, tenant_id),
                "the outbox drains",
                60,
                lambda: last_lines(*workers),
            )
        finally:
            codes = [w.stop() for w in workers]
    assert codes == [0, 0], last_lines(*workers)

    states = text_states(db, tenant_id)
    sends = sends_by_message(fake)
    lost, duplicated, mismatched = check_sent_once(states, sends)
    counts = outbox_counts(db, tenant_id)
    assert (lost, duplicated, mismatched) == ([], [], []), counts
    assert len(fake.messages) == count
    # Each text was asked for once: the retry found the first request's message by
    # reconciliation instead of sending it again.
    assert set(fake.sends_to.values()) == {1}, collections.Counter(fake.sends_to.values())
    assert {status for status, _ in states.values()} == {"queued"}
    assert (counts["dead"], counts["needs_review"]) == (0, 0), counts
    assert counts["rows_with_attempts"] == count, counts  # every first try ran out of time
