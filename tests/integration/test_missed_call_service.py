"""The missed-call use case on real PostgreSQL: one call, one text-back, whatever the replays."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import outbox_events, webhook_events
from nmc_domain.messaging.model import MessageStatus
from nmc_domain.shared.ports import RowLock
from nmc_domain.telephony.missed_call import CallStatusReport, ReportOutcome, report_call_status
from tests.support.tenants import caller_number, onboard


def _call_sid() -> str:
    return "CA" + uuid.uuid4().hex


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


def _report(number: str, caller: str, sid: str, status: str = "no-answer") -> CallStatusReport:
    payload = {"CallSid": sid, "CallStatus": status, "From": caller, "To": number}
    return CallStatusReport(
        call_sid=sid,
        called=number,
        caller=caller,
        status=status,
        duration_seconds=0,
        payload=payload,
    )


async def _count(engine: AsyncEngine, query) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


async def test_missed_call_queues_one_text_back_naming_the_business(new_uow, admin_engine) -> None:
    tenant, number = await onboard(new_uow, name="ACME-PLUMBING")
    caller = caller_number()

    result = await report_call_status(new_uow(), _report(number, caller, _call_sid()))

    assert result.outcome is ReportOutcome.TEXT_BACK_QUEUED
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        message = await uow.messages.get(tenant.id, result.message_id, lock=RowLock.NONE)
    assert message is not None
    assert (message.to, message.from_) == (caller, number)
    assert "ACME-PLUMBING" in message.body
    assert message.status is MessageStatus.QUEUED
    outbox = (
        select(func.count())
        .select_from(outbox_events)
        .where(outbox_events.c.payload["message_id"].astext == str(message.id))
    )
    assert await _count(admin_engine, outbox) == 1


@pytest.mark.parametrize("concurrent", [False, True])
async def test_five_replays_store_one_event_and_one_outbox_row(
    new_uow, admin_engine, concurrent
) -> None:
    tenant, number = await onboard(new_uow)
    sid, caller = _call_sid(), caller_number()
    reports = [_report(number, caller, sid) for _ in range(5)]

    if concurrent:
        results = await asyncio.gather(*(report_call_status(new_uow(), r) for r in reports))
    else:
        results = [await report_call_status(new_uow(), r) for r in reports]

    outcomes = sorted(r.outcome.value for r in results)
    assert outcomes == sorted(["text_back_queued"] + ["duplicate"] * 4)
    events = (
        select(func.count()).select_from(webhook_events).where(webhook_events.c.event_key == sid)
    )
    assert await _count(admin_engine, events) == 1
    queued = (
        select(func.count())
        .select_from(outbox_events)
        .where(outbox_events.c.tenant_id == tenant.id, outbox_events.c.topic == "message.queued.v1")
    )
    assert await _count(admin_engine, queued) == 1


async def test_second_call_while_conversation_open_gets_no_second_text(
    new_uow, admin_engine
) -> None:
    tenant, number = await onboard(new_uow)
    caller = caller_number()

    first = await report_call_status(new_uow(), _report(number, caller, _call_sid()))
    second = await report_call_status(new_uow(), _report(number, caller, _call_sid(), "busy"))

    assert first.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert second.outcome is ReportOutcome.CONVERSATION_OPEN
    assert second.conversation_id == first.conversation_id
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        calls = await uow.calls.of_conversation(tenant.id, first.conversation_id)
    assert [c.reason for c in calls] == ["no_answer", "busy"]
    sent = select(func.count()).select_from(messages).where(messages.c.tenant_id == tenant.id)
    assert await _count(admin_engine, sent) == 1


async def test_unknown_number_stores_nothing(new_uow, admin_engine) -> None:
    sid = _call_sid()
    result = await report_call_status(new_uow(), _report("+14155550000", caller_number(), sid))
    assert result.outcome is ReportOutcome.UNKNOWN_NUMBER
    events = (
        select(func.count()).select_from(webhook_events).where(webhook_events.c.event_key == sid)
    )
    assert await _count(admin_engine, events) == 0


async def test_answered_call_is_recorded_without_a_text(new_uow, admin_engine) -> None:
    tenant, number = await onboard(new_uow)
    result = await report_call_status(
        new_uow(), _report(number, caller_number(), _call_sid(), "completed")
    )
    assert result.outcome is ReportOutcome.ANSWERED
    queued = (
        select(func.count())
        .select_from(outbox_events)
        .where(outbox_events.c.tenant_id == tenant.id, outbox_events.c.topic == "message.queued.v1")
    )
    assert await _count(admin_engine, queued) == 0
    async with admin_engine.connect() as conn:
        outcome = (
            await conn.execute(
                text("SELECT outcome FROM calls WHERE tenant_id = :t"), {"t": tenant.id}
            )
        ).scalar_one()
    assert outcome == "answered"
