"""PostgreSQL repositories: every query filters by tenant, every write is one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Select, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from nmc_adapters.postgres.rows import (
    call_from_row,
    call_row,
    conversation_from_row,
    message_from_row,
    message_row,
    tenant_from_row,
    tenant_row,
)
from nmc_adapters.postgres.tables import (
    calls,
    conversations,
    messages,
    phone_numbers,
    tenants,
    webhook_events,
)
from nmc_domain.errors import NumberAlreadyTaken
from nmc_domain.model.calls import CallRecord
from nmc_domain.model.conversation import Conversation
from nmc_domain.model.messages import OutboundMessage
from nmc_domain.model.tenant import Tenant
from nmc_domain.ports import RowLock

__all__ = [
    "PgCalls",
    "PgConversations",
    "PgMessages",
    "PgPhoneNumbers",
    "PgTenants",
    "PgWebhookEvents",
]


def _locked(query: Select[Any], lock: RowLock) -> Select[Any]:
    if lock is RowLock.UPDATE:
        return query.with_for_update()
    if lock is RowLock.SHARE:
        return query.with_for_update(read=True)
    return query


class PgTenants:
    """Tenants; `by_number` is the webhook hot path (one indexed join)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, tenant: Tenant) -> None:
        await self._conn.execute(insert(tenants).values(tenant_row(tenant)))

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None:
        query = _locked(select(tenants).where(tenants.c.id == tenant_id), lock)
        row = (await self._conn.execute(query)).first()
        return None if row is None else tenant_from_row(row)

    async def by_number(self, number: str) -> Tenant | None:
        query = select(tenants).join(phone_numbers, phone_numbers.c.tenant_id == tenants.c.id)
        row = (await self._conn.execute(query.where(phone_numbers.c.e164 == number))).first()
        return None if row is None else tenant_from_row(row)

    async def save(self, tenant: Tenant) -> None:
        values = tenant_row(tenant) | {"updated_at": func.now()}
        await self._conn.execute(update(tenants).where(tenants.c.id == tenant.id).values(values))


class PgPhoneNumbers:
    """The routing table; a taken number is reported by the primary key, not a pre-check."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def assign(self, number: str, tenant_id: UUID) -> None:
        query = (
            pg_insert(phone_numbers)
            .values(e164=number, tenant_id=tenant_id)
            .on_conflict_do_nothing()
            .returning(phone_numbers.c.e164)
        )
        if (await self._conn.execute(query)).first() is None:
            raise NumberAlreadyTaken(number)

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]:
        query = select(phone_numbers.c.e164).where(phone_numbers.c.tenant_id == tenant_id)
        return list((await self._conn.execute(query.order_by(phone_numbers.c.e164))).scalars())


class PgWebhookEvents:
    """INSERT … ON CONFLICT DO NOTHING: racing replays wait for the first, then do nothing."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(
        self, provider: str, key: str, tenant_id: UUID | None, payload: Mapping[str, str]
    ) -> bool:
        query = (
            pg_insert(webhook_events)
            .values(provider=provider, event_key=key, tenant_id=tenant_id, payload=dict(payload))
            .on_conflict_do_nothing()
            .returning(webhook_events.c.provider)
        )
        return (await self._conn.execute(query)).first() is not None


class PgCalls:
    """Final call outcomes."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, call: CallRecord) -> None:
        await self._conn.execute(insert(calls).values(call_row(call)))

    async def of_conversation(self, tenant_id: UUID, conversation_id: UUID) -> Sequence[CallRecord]:
        query = (
            select(calls)
            .where(calls.c.tenant_id == tenant_id, calls.c.conversation_id == conversation_id)
            .order_by(calls.c.occurred_at, calls.c.call_sid)
        )
        return [call_from_row(row) for row in await self._conn.execute(query)]


class PgConversations:
    """One open conversation per caller, enforced by a partial unique index."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        opening = (
            pg_insert(conversations)
            .values(tenant_id=tenant_id, id=uuid4(), caller=caller, status="open", opened_at=now)
            .on_conflict_do_nothing(
                index_elements=["tenant_id", "caller"], index_where=text("status = 'open'")
            )
            .returning(*conversations.c)
        )
        finding = select(conversations).where(
            conversations.c.tenant_id == tenant_id,
            conversations.c.caller == caller,
            conversations.c.status == "open",
        )
        # The open one may close between our two statements; then opening succeeds next round.
        for _ in range(3):
            row = (await self._conn.execute(opening)).first()
            if row is not None:
                return conversation_from_row(row), True
            row = (await self._conn.execute(finding)).first()
            if row is not None:
                return conversation_from_row(row), False
        raise RuntimeError("conversation kept closing while a call was being recorded")


class PgMessages:
    """Outbound messages, always addressed by (tenant, id)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, message: OutboundMessage) -> None:
        await self._conn.execute(insert(messages).values(message_row(message)))

    async def get(
        self, tenant_id: UUID, message_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> OutboundMessage | None:
        query = select(messages).where(
            messages.c.tenant_id == tenant_id, messages.c.id == message_id
        )
        row = (await self._conn.execute(_locked(query, lock))).first()
        return None if row is None else message_from_row(row)

    async def save(self, message: OutboundMessage) -> None:
        values = message_row(message) | {"updated_at": func.now()}
        query = update(messages).where(
            messages.c.tenant_id == message.tenant_id, messages.c.id == message.id
        )
        await self._conn.execute(query.values(values))

    async def held(self, tenant_id: UUID) -> Sequence[OutboundMessage]:
        query = (
            select(messages)
            .where(messages.c.tenant_id == tenant_id, messages.c.status == "held")
            .order_by(messages.c.created_at, messages.c.id)
            .with_for_update()
        )
        return [message_from_row(row) for row in await self._conn.execute(query)]
