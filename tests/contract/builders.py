"""Vivid domain values for the contract suites (built directly: these suites test repositories)."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from nmc_domain.catalog.model import ServiceItem, new_service_item
from nmc_domain.identity.model import User, new_user
from nmc_domain.messaging.model import MessageStatus, OutboundMessage
from nmc_domain.telephony.model import CallOutcome, CallRecord
from nmc_domain.tenancy.model import Tenant, new_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.tenants import caller_number, fresh_number


def a_tenant(name: str = "ACME-PLUMBING") -> Tenant:
    return new_tenant(
        name=name,
        timezone="America/Chicago",
        forward_to=fresh_number(),
        owner_email="owner@acme-plumbing.example",
    )


async def stored_tenant(
    new_uow: UnitOfWorkFactory, name: str = "ACME-PLUMBING"
) -> tuple[Tenant, str]:
    """A committed tenant and the number routed to it."""
    tenant, number = a_tenant(name), fresh_number()
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.tenants.add(tenant)
        await uow.numbers.assign(number, tenant.id)
        await uow.commit()
    return tenant, number


def a_message(
    tenant_id: UUID,
    created_at: datetime,
    *,
    status: MessageStatus = MessageStatus.QUEUED,
    conversation_id: UUID | None = None,
    body: str = "Sorry we missed your call! ACME-PLUMBING here: how can we help?",
) -> OutboundMessage:
    return OutboundMessage(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        to=caller_number(),
        from_=fresh_number(),
        body=body,
        status=status,
        created_at=created_at,
    )


def a_call(
    tenant_id: UUID, conversation_id: UUID | None, occurred_at: datetime, call_sid: str
) -> CallRecord:
    return CallRecord(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        call_sid=call_sid,
        caller=caller_number(),
        called=fresh_number(),
        status="no-answer",
        outcome=CallOutcome.MISSED,
        reason="no_answer",
        duration_seconds=0,
        conversation_id=conversation_id,
        occurred_at=occurred_at,
    )


def a_user(tenant_id: UUID, email: str, *, role: str = "TECH", subject: str | None = None) -> User:
    return new_user(tenant_id=tenant_id, email=email, role=role, subject=subject)


def an_item(
    tenant_id: UUID,
    name: str = "Water Heater Flush",
    *,
    price_cents: int = 18_900,
    duration_minutes: int = 90,
    active: bool = True,
) -> ServiceItem:
    return new_service_item(
        tenant_id=tenant_id,
        name=name,
        price_cents=price_cents,
        duration_minutes=duration_minutes,
        active=active,
    )
