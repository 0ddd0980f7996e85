"""A lapsed plan on real PostgreSQL: calls and texts recorded with the reason billing_inactive,
no text-back or assistant reply queued (no message row, no outbox row), STOP still confirmed;
once the subscription is active a new missed call texts back, and nothing held back goes late."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.billing.model import BillingTerms, Subscription, SubscriptionStatus
from nmc_domain.conversation.assistant import RuleBasedAssistant
from nmc_domain.conversation.inbound import InboundOutcome, InboundText, receive_text
from nmc_domain.telephony.missed_call import CallStatusReport, ReportOutcome, report_call_status
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.tenants import caller_number, onboard

JOB = "my water heater is leaking"


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    """Stripe is configured here: billing is enforced."""
    return lambda: PgUnitOfWork(engine, billing_terms=BillingTerms(enforced=True))


def missed(number: str, caller: str) -> CallStatusReport:
    sid = "CA" + uuid.uuid4().hex
    return CallStatusReport(sid, number, caller, "no-answer", 0, {"CallSid": sid})


def texted(number: str, caller: str, body: str) -> InboundText:
    return InboundText("SM" + uuid.uuid4().hex, caller, number, body)


async def rows(admin: AsyncEngine, query: str, tenant_id: uuid.UUID) -> list[tuple[Any, ...]]:
    async with admin.connect() as conn:
        result = await conn.execute(text(query), {"tenant": tenant_id})
        return [tuple(row) for row in result]


async def test_a_lapsed_plan_records_everything_and_sends_only_what_the_rules_require(
    new_uow: UnitOfWorkFactory, admin_engine: AsyncEngine
) -> None:
    tenant, number = await onboard(new_uow, name="ACME-PLUMBING")
    caller, quitter = caller_number(), caller_number()
    assistant = RuleBasedAssistant()

    call = await report_call_status(new_uow(), missed(number, caller))
    job = await receive_text(new_uow(), assistant, texted(number, caller, JOB))
    stop = await receive_text(new_uow(), assistant, texted(number, quitter, "STOP"))

    assert call.outcome is ReportOutcome.BILLING_INACTIVE
    assert job.outcome is InboundOutcome.BILLING_INACTIVE
    assert stop.outcome is InboundOutcome.OPTED_OUT
    calls = "SELECT outcome, reason, conversation_id FROM calls WHERE tenant_id = :tenant"
    assert await rows(admin_engine, calls, tenant.id) == [
        ("missed", "billing_inactive", call.conversation_id)
    ]
    conversation = "SELECT status FROM conversations WHERE tenant_id = :tenant AND id = :id"
    async with admin_engine.connect() as conn:
        found = await conn.execute(
            text(conversation), {"tenant": tenant.id, "id": call.conversation_id}
        )
        assert found.scalar_one() == "open"
    inbound = (
        "SELECT from_number, body, suppressed_reason FROM messages "
        "WHERE tenant_id = :tenant AND direction = 'inbound'"
    )
    assert sorted(await rows(admin_engine, inbound, tenant.id)) == sorted(
        [(caller, JOB, "billing_inactive"), (quitter, "STOP", None)]
    )
    outbound = (
        "SELECT to_number, author FROM messages WHERE tenant_id = :tenant "
        "AND direction = 'outbound' ORDER BY created_at, id"
    )
    assert await rows(admin_engine, outbound, tenant.id) == [(quitter, "compliance")]
    queued = (
        "SELECT count(*) FROM outbox_events WHERE tenant_id = :tenant "
        "AND topic = 'message.queued.v1'"
    )
    assert await rows(admin_engine, queued, tenant.id) == [(1,)]
    # The assistant never looked at the job: it would have held times to offer.
    bookings = "SELECT count(*) FROM bookings WHERE tenant_id = :tenant"
    assert await rows(admin_engine, bookings, tenant.id) == [(0,)]

    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(
            Subscription(
                tenant_id=tenant.id,
                customer_id=f"cus_acme_{uuid.uuid4().hex[:12]}",
                subscription_id=f"sub_acme_{uuid.uuid4().hex[:12]}",
                status=SubscriptionStatus.ACTIVE,
                price_id="price_1QACMEmonthly",
                current_period_end=datetime(2099, 1, 1, tzinfo=UTC),
                cancel_at_period_end=False,
                updated_at=await uow.now(),
            )
        )
        await uow.commit()

    again = await report_call_status(new_uow(), missed(number, caller))

    assert again.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert again.conversation_id == call.conversation_id
    assert await rows(admin_engine, outbound, tenant.id) == [
        (quitter, "compliance"),
        (caller, "text_back"),
    ]
    assert await rows(admin_engine, queued, tenant.id) == [(2,)]
    assert await rows(admin_engine, calls + " ORDER BY occurred_at", tenant.id) == [
        ("missed", "billing_inactive", call.conversation_id),
        ("missed", "no_answer", call.conversation_id),
    ]
