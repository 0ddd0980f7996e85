"""The in-memory fakes beyond the shared contracts: clock, wakeups, the scriptable SMS sender."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest

from nmc_adapters.memory import (
    DEFAULT_START,
    FakeSmsSender,
    InMemoryOutboxQueue,
    InMemoryStore,
    InMemoryUnitOfWork,
    InMemoryWakeups,
)
from nmc_domain.compliance.model import Compliance
from nmc_domain.messaging.dispatch import DispatchOutcome, dispatch_message
from nmc_domain.messaging.errors import SmsNotSent, SmsOutcomeUnknown, SmsRejected
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import MessageStatus
from nmc_domain.messaging.ports import OutgoingSms, SmsSender
from nmc_domain.shared.ports import Wakeups
from nmc_domain.telephony.missed_call import CallStatusReport, ReportOutcome, report_call_status
from nmc_domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from tests.support.tenants import caller_number, onboard

_SMS = OutgoingSms(
    to="+15005550006", from_="+14155550100", body="ACME-PLUMBING here!", reference=uuid.uuid4()
)


def _factory(store: InMemoryStore) -> UnitOfWorkFactory:
    return lambda: InMemoryUnitOfWork(store)


def test_the_clock_is_tz_aware_and_only_moves_forward() -> None:
    store = InMemoryStore()
    assert store.now == DEFAULT_START
    assert store.now.tzinfo is not None
    assert store.advance(90) == DEFAULT_START + timedelta(seconds=90)
    with pytest.raises(ValueError, match="forward"):
        store.advance(-1)
    with pytest.raises(ValueError, match="tz-aware"):
        InMemoryStore(datetime(2025, 1, 6, 9, 0))


async def test_now_is_read_once_per_unit_of_work() -> None:
    store = InMemoryStore()
    uow: UnitOfWork = InMemoryUnitOfWork(store)
    async with uow:
        first = await uow.now()
        store.advance(5)
        assert await uow.now() == first
    async with uow:
        assert await uow.now() == first + timedelta(seconds=5)


async def test_interleaved_units_of_work_keep_each_others_commits() -> None:
    store = InMemoryStore()
    new_uow = _factory(store)
    acme, _ = await onboard(new_uow, approved=False)
    spark, _ = await onboard(new_uow, name="BRIGHT-SPARK-ELECTRIC", approved=False)
    async with new_uow() as first, new_uow() as second:
        await first.compliance.save(Compliance(acme.id).approve(store.now)[0])
        await second.compliance.save(Compliance(spark.id).approve(store.now)[0])
        await first.commit()
        await second.commit()
    assert store.compliance[acme.id].may_send
    assert store.compliance[spark.id].may_send


async def test_wakeups_report_a_wake_once_and_time_out_otherwise() -> None:
    wakeups = InMemoryWakeups()
    port: Wakeups = wakeups
    assert await port.wait(0.01) is False
    wakeups.wake()
    assert await port.wait(0.01) is True
    assert await port.wait(0.01) is False  # the wake was consumed


async def test_a_commit_that_adds_outbox_rows_wakes_the_worker() -> None:
    store = InMemoryStore()
    wakeups = InMemoryWakeups(store)
    async with InMemoryUnitOfWork(store) as uow:
        await uow.commit()  # nothing for the outbox: no wakeup
    assert await wakeups.wait(0.01) is False

    waiting = asyncio.create_task(wakeups.wait(5))
    async with InMemoryUnitOfWork(store) as uow:
        await uow.outbox.add(MessageQueued(uuid.uuid4(), uuid.uuid4()))
        await uow.commit()
    assert await waiting is True


async def test_the_fake_sender_records_what_it_sends() -> None:
    sender = FakeSmsSender(clock=lambda: DEFAULT_START)
    port: SmsSender = sender
    receipt = await port.send(_SMS)
    assert receipt.provider_sid.startswith("SM")
    assert len(receipt.provider_sid) == 34
    assert receipt.status == "queued"
    assert [(kept.sms, kept.receipt, kept.sent_at) for kept in sender.sent] == [
        (_SMS, receipt, DEFAULT_START)
    ]
    assert sender.messages_to("+15005550006") == [_SMS]


async def test_scripted_failures_come_in_order_and_keep_nothing() -> None:
    sender = FakeSmsSender()
    rejected = SmsRejected("21211", "invalid To number")
    sender.fail_next(SmsNotSent("connection refused"), rejected)
    with pytest.raises(SmsNotSent):
        await sender.send(_SMS)
    with pytest.raises(SmsRejected) as raised:
        await sender.send(_SMS)
    assert raised.value is rejected
    assert sender.sent == []
    await sender.send(_SMS)
    assert len(sender.sent) == 1


async def test_a_hang_keeps_the_message_and_find_sent_reports_it() -> None:
    store = InMemoryStore()
    sender = FakeSmsSender(clock=lambda: store.now)
    since = store.now
    sender.hang_next()
    with pytest.raises(SmsOutcomeUnknown):
        await sender.send(_SMS)

    [kept] = sender.sent
    assert list(await sender.find_sent(_SMS, since)) == [kept.receipt]
    assert list(await sender.find_sent(_SMS, since + timedelta(seconds=1))) == []
    other_body = OutgoingSms(_SMS.to, _SMS.from_, "another text", _SMS.reference)
    assert list(await sender.find_sent(other_body, since)) == []
    assert [lookup[1] for lookup in sender.lookups] == [since, since + timedelta(seconds=1), since]


async def test_find_sent_returns_every_matching_record_newest_first() -> None:
    store = InMemoryStore()
    sender = FakeSmsSender(clock=lambda: store.now)
    since = store.now
    first = await sender.send(_SMS)
    store.advance(10)
    await sender.send(OutgoingSms("+15005550009", _SMS.from_, _SMS.body, uuid.uuid4()))
    await sender.send(OutgoingSms(_SMS.to, "+14155550199", _SMS.body, uuid.uuid4()))
    store.advance(10)
    # Another of our messages with the same text: the provider cannot tell them apart.
    second = await sender.send(OutgoingSms(_SMS.to, _SMS.from_, _SMS.body, uuid.uuid4()))

    assert list(await sender.find_sent(_SMS, since)) == [second, first]
    assert list(await sender.find_sent(_SMS, since + timedelta(seconds=15))) == [second]


async def test_the_use_cases_run_on_the_fakes_end_to_end() -> None:
    """A missed call's text-back, sent through a hang and reconciled: exactly one SMS."""
    store = InMemoryStore()
    new_uow = _factory(store)
    sender, queue = FakeSmsSender(clock=lambda: store.now), InMemoryOutboxQueue(store)
    _, number = await onboard(new_uow)
    caller, sid = caller_number(), "CA" + uuid.uuid4().hex
    report = CallStatusReport(sid, number, caller, "no-answer", 0, {"CallSid": sid})

    result = await report_call_status(new_uow(), report)
    assert result.outcome is ReportOutcome.TEXT_BACK_QUEUED
    [item] = [item for item in await queue.claim(10, 60) if isinstance(item.event, MessageQueued)]
    event = item.event
    assert isinstance(event, MessageQueued)

    sender.hang_next()
    with pytest.raises(SmsOutcomeUnknown):
        await dispatch_message(new_uow, sender, event)
    store.advance(30)
    assert await dispatch_message(new_uow, sender, event) is DispatchOutcome.RECONCILED

    [kept] = sender.sent
    assert kept.sms.to == caller
    assert "ACME-PLUMBING" in kept.sms.body
    message = store.messages[event.tenant_id, event.message_id]
    assert (message.provider_sid, message.status) == (
        kept.receipt.provider_sid,
        MessageStatus.QUEUED,
    )
