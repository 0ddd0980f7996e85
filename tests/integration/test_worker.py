"""The worker against real PostgreSQL and a real (local) fake Twilio HTTP server."""

from __future__ import annotations

import asyncio
import io
import json
import random
import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest
import structlog
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import configure_logging
from nmc_adapters.postgres import PgOutboxQueue, PgUnitOfWork
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_adapters.settings import Settings
from nmc_adapters.twilio.sms import TwilioSmsSender
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.shared.retry import RetryPolicies, RetryPolicy
from nmc_domain.telephony.missed_call import CallStatusReport, report_call_status
from nmc_worker.bootstrap import OpsOptions, build_worker
from nmc_worker.dispatcher import Dispatcher, DispatcherOptions
from nmc_worker.handlers import build_handlers, retry_policies
from nmc_worker.worker import Worker
from tests.support.fake_twilio import FakeTwilio
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, call_sid
from tests.support.waiting import eventually, running

TWILIO_TOKEN = "fake-twilio-token-for-acme"
FAST_RETRIES = retry_policies(base_seconds=0.01, cap_seconds=0.05)
# Texts given up on after one second: the dead-letter path without waiting six hours.
SHORT_BUDGET = RetryPolicy(base_seconds=0.01, cap_seconds=0.05, give_up_seconds=1.0)
GIVE_UP_FAST = RetryPolicies(default=SHORT_BUDGET, by_event={MessageQueued: SHORT_BUDGET})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(database_url: str, fake: FakeTwilio) -> Settings:
    return Settings(
        database_url=database_url,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=TWILIO_TOKEN,
        twilio_api_base=fake.base_url,
    )


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


def worker(settings: Settings, **options: float) -> Worker:
    return build_worker(
        settings,
        options=DispatcherOptions(**options),  # type: ignore[arg-type]
        policies=FAST_RETRIES,
        rng=random.Random(7),
    )


async def missed_call(new_uow, number: str, caller: str | None = None):
    report = CallStatusReport(call_sid(), number, caller or caller_number(), "no-answer", 0)
    return await report_call_status(new_uow(), report)


async def message_row(engine: AsyncEngine, message_id):
    async with engine.connect() as conn:
        return (await conn.execute(select(messages).where(messages.c.id == message_id))).one()


async def outbox_row(engine: AsyncEngine, message_id):
    async with engine.connect() as conn:
        query = select(outbox_events).where(
            outbox_events.c.payload["message_id"].astext == str(message_id)
        )
        return (await conn.execute(query)).one()


def sent_to(fake: FakeTwilio, number: str) -> list:
    return [m for m in fake.messages if m.to == number]


async def test_the_text_back_reaches_the_provider_once(
    settings, fake, new_uow, admin_engine
) -> None:
    _, number = await onboard(new_uow, name="ACME-PLUMBING")
    caller = caller_number()

    async with running(worker(settings)):
        result = await missed_call(new_uow, number, caller)
        await eventually(lambda: sent_to(fake, caller))
        row = await eventually(lambda: _dispatched(admin_engine, result.message_id))

    [sms] = sent_to(fake, caller)
    assert (sms.from_, sms.to) == (number, caller)
    assert "ACME-PLUMBING" in sms.body
    assert sms.status_callback == (
        f"{PUBLIC_BASE_URL}/webhooks/twilio/sms/status?message_id={result.message_id}"
    )
    assert row.dispatched_at is not None  # kept, not deleted
    stored = await message_row(admin_engine, result.message_id)
    assert (stored.provider_sid, stored.status) == (sms.sid, "queued")


async def _dispatched(engine: AsyncEngine, message_id):
    row = await outbox_row(engine, message_id)
    return row if row.dispatched_at is not None else None


async def test_pending_tenant_is_held_until_approved(settings, fake, new_uow, admin_engine) -> None:
    tenant, number = await onboard(new_uow, approved=False)
    caller = caller_number()

    async with running(worker(settings)):
        result = await missed_call(new_uow, number, caller)
        await eventually(lambda: _status_is(admin_engine, result.message_id, "held"))
        assert sent_to(fake, caller) == []

        await approve_compliance(new_uow(), tenant.id)
        await eventually(lambda: sent_to(fake, caller))

    assert len(sent_to(fake, caller)) == 1


async def test_rejected_tenant_sends_nothing(settings, fake, new_uow, admin_engine) -> None:
    tenant, number = await onboard(new_uow, approved=False)
    caller = caller_number()

    async with running(worker(settings)):
        await reject_compliance(new_uow(), tenant.id, "brand not verified")
        result = await missed_call(new_uow, number, caller)
        await eventually(lambda: _dispatched(admin_engine, result.message_id))

    assert (await message_row(admin_engine, result.message_id)).status == "held"
    assert sent_to(fake, caller) == []


async def _status_is(engine: AsyncEngine, message_id, status: str) -> bool:
    return (await message_row(engine, message_id)).status == status


async def test_provider_5xx_is_retried_without_a_duplicate(
    settings, fake, new_uow, admin_engine
) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    fake.fail_next(2, status=500)

    async with running(worker(settings)):
        result = await missed_call(new_uow, number, caller)
        row = await eventually(lambda: _dispatched(admin_engine, result.message_id))

    assert len(sent_to(fake, caller)) == 1
    assert row.attempts == 2
    assert "500" in row.last_error


async def test_timeout_after_the_provider_accepted_is_reconciled_not_resent(
    settings, fake, new_uow, admin_engine
) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    fake.hang_next(1, seconds=1.0)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.3)) as client:
        sender = TwilioSmsSender(
            client,
            account_sid=ACCOUNT_SID,
            auth_token=TWILIO_TOKEN,
            api_base=fake.base_url,
            public_base_url=PUBLIC_BASE_URL,
        )
        ambiguous = build_worker(
            settings, policies=FAST_RETRIES, rng=random.Random(1), sender=sender
        )
        async with running(ambiguous):
            result = await missed_call(new_uow, number, caller)
            row = await eventually(lambda: _dispatched(admin_engine, result.message_id))

    [sms] = sent_to(fake, caller)
    assert row.attempts == 1  # one ambiguous failure, then reconciliation found it
    assert (await message_row(admin_engine, result.message_id)).provider_sid == sms.sid


async def test_dead_letter_once_the_time_budget_is_spent(
    settings, fake, new_uow, admin_engine
) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    fake.fail_next(10_000, status=429)  # "not now", for longer than the one-second budget
    try:
        short = build_worker(settings, policies=GIVE_UP_FAST, rng=random.Random(7))
        async with running(short):
            result = await missed_call(new_uow, number, caller)
            row = await eventually(lambda: _dead(admin_engine, result.message_id), within=10)
    finally:
        fake.clear_faults()

    assert row.attempts > 1
    assert row.dispatched_at is None
    assert "429" in row.last_error
    assert sent_to(fake, caller) == []
    message = await eventually(lambda: _with_status(admin_engine, result.message_id, "failed"))
    assert message.error.startswith("gave up:")


async def _with_status(engine: AsyncEngine, message_id, status: str):
    row = await message_row(engine, message_id)
    return row if row.status == status else None


async def _dead(engine: AsyncEngine, message_id):
    row = await outbox_row(engine, message_id)
    return row if row.dead_at is not None else None


async def test_two_workers_send_every_message_exactly_once(settings, fake, new_uow) -> None:
    _, number = await onboard(new_uow)
    callers = [caller_number() for _ in range(40)]

    async with running(worker(settings, concurrency=4), worker(settings, concurrency=4)):
        for caller in callers:
            await missed_call(new_uow, number, caller)
        await eventually(lambda: len([m for m in fake.messages if m.from_ == number]) >= 40)

    sent = [m.to for m in fake.messages if m.from_ == number]
    assert sorted(sent) == sorted(callers)


class NeverWakes:
    """Wakeups that never fire: only the poll can find work."""

    async def wait(self, seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return False


async def test_polling_finds_work_without_notifications(settings, fake, new_uow, engine) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    async with httpx.AsyncClient() as client:
        sender = TwilioSmsSender(
            client,
            account_sid=ACCOUNT_SID,
            auth_token=TWILIO_TOKEN,
            api_base=fake.base_url,
            public_base_url=PUBLIC_BASE_URL,
        )
        dispatcher = Dispatcher(
            PgOutboxQueue(engine),
            NeverWakes(),
            build_handlers(new_uow, sender),
            FAST_RETRIES,
            random.Random(3),
            DispatcherOptions(poll_seconds=0.2),
        )
        deaf = Worker(dispatcher=dispatcher, start=_noop, close=_noop)
        async with running(deaf):
            await missed_call(new_uow, number, caller)
            await eventually(lambda: sent_to(fake, caller))


async def _noop() -> None:
    return None


async def test_notification_wakes_an_idle_worker(settings, fake, new_uow) -> None:
    # With a 60 s poll, only LISTEN/NOTIFY can deliver this within the 10 s wait.
    _, number = await onboard(new_uow)
    caller = caller_number()

    async with running(worker(settings, poll_seconds=60.0)):
        await missed_call(new_uow, number, caller)
        await eventually(lambda: sent_to(fake, caller), within=10)


async def test_unknown_topic_is_dead_lettered(settings, admin_engine) -> None:
    topic = f"mystery.{uuid.uuid4().hex[:6]}.v1"
    async with admin_engine.begin() as conn:
        await conn.execute(
            insert(outbox_events).values(topic=topic, payload={"type": topic}, schema_version=1)
        )

    async def dead():
        async with admin_engine.connect() as conn:
            query = select(outbox_events).where(outbox_events.c.topic == topic)
            row = (await conn.execute(query)).one()
        return row if row.dead_at is not None else None

    async with running(worker(settings)):
        row = await eventually(dead)

    assert "no handler" in row.last_error


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_metrics_port_counts_what_the_worker_did(settings, fake, new_uow) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    port = _free_port()
    served = build_worker(
        settings,
        policies=FAST_RETRIES,
        rng=random.Random(7),
        ops=OpsOptions(metrics_port=port),
    )
    async with running(served), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        await eventually(lambda: _status(http, "/readyz", 200))
        await missed_call(new_uow, number, caller)
        await eventually(lambda: sent_to(fake, caller))
        body = await eventually(lambda: _metrics_with(http, 'nmc_sms_sent_total{status="sent"}'))
        health = await http.get("/healthz")

    assert health.status_code == 200
    assert 'nmc_outbox_dispatch_total{result="done",topic="message.queued.v1"}' in body
    assert "nmc_missed_call_textback_seconds_count 1.0" in body
    assert 'nmc_outbox_pending{topic="message.queued.v1"}' in body
    # No phone numbers in labels.
    assert caller not in body
    assert number not in body


async def _status(http: httpx.AsyncClient, path: str, status: int) -> bool:
    try:
        return (await http.get(path)).status_code == status
    except httpx.TransportError:
        return False


async def _metrics_with(http: httpx.AsyncClient, line: str) -> str | None:
    body = (await http.get("/metrics")).text
    return body if line in body else None


async def test_the_request_id_travels_through_the_outbox_into_the_worker_log(
    settings, fake, new_uow, admin_engine
) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    with structlog.contextvars.bound_contextvars(request_id="req-travels-42"):
        result = await missed_call(new_uow, number, caller)
    row = await outbox_row(admin_engine, result.message_id)
    assert row.request_id == "req-travels-42"

    lines = io.StringIO()
    configure_logging("json", "info", stream=lines)  # the apps' own logging, into a buffer
    try:
        async with running(worker(settings)):
            await eventually(lambda: _dispatched(admin_engine, result.message_id))
    finally:
        configure_logging("json", "info")

    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    [dispatch] = [
        line
        for line in logged
        if line["event"] == "sms.dispatch" and line.get("message_id") == str(result.message_id)
    ]
    assert dispatch["request_id"] == "req-travels-42"
    assert dispatch["outbox_id"] == row.id


async def test_shutdown_hands_an_unfinished_send_back_and_the_next_worker_reconciles_it(
    settings, fake, new_uow, admin_engine
) -> None:
    _, number = await onboard(new_uow)
    caller = caller_number()
    fake.hang_next(1, seconds=5.0)  # the provider takes the text, then answers late
    first = worker(settings, shutdown_grace_seconds=0.3)
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    try:
        result = await missed_call(new_uow, number, caller)
        await eventually(lambda: sent_to(fake, caller))  # the request is out, unanswered
        stop.set()
        await asyncio.wait_for(task, 5)
    finally:
        stop.set()

    row = await outbox_row(admin_engine, result.message_id)
    assert row.dispatched_at is None
    assert row.lease_token is None  # handed back, not waiting for its lease to lapse
    assert row.attempts == 0  # a shutdown is not the message's failure
    async with admin_engine.connect() as conn:
        now = (await conn.execute(select(func.now()))).scalar_one()
    assert row.available_at <= now  # due at once

    async with running(worker(settings)):
        done = await eventually(lambda: _dispatched(admin_engine, result.message_id))

    [sms] = sent_to(fake, caller)  # reconciled against the provider, not sent again
    assert (await message_row(admin_engine, result.message_id)).provider_sid == sms.sid
    assert done.attempts == 0
