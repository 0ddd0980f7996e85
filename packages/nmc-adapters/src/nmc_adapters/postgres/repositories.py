"""PostgreSQL repositories: every query filters by tenant, every write is one statement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID, uuid4

from psycopg.types.json import Jsonb
from sqlalchemy import Table, bindparam, func, insert, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql import ColumnElement

from nmc_adapters.postgres.rows import (
    CALL_COLUMNS,
    MESSAGE_COLUMNS,
    TENANT_COLUMNS,
    call_from_row,
    call_row,
    conversation_from_row,
    message_from_row,
    message_row,
    tenant_from_row,
    tenant_row,
)
from nmc_adapters.postgres.sql import Db, Transaction, compiled
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


def _insert(table: Table, columns: Iterable[str]) -> bytes:
    return compiled(insert(table).values({c: bindparam(c) for c in columns}))


def _locks(query) -> dict[RowLock, bytes]:  # type: ignore[no-untyped-def]
    return {
        RowLock.NONE: compiled(query),
        RowLock.SHARE: compiled(query.with_for_update(read=True)),
        RowLock.UPDATE: compiled(query.with_for_update()),
    }


_TENANT_INSERT = _insert(tenants, TENANT_COLUMNS)
_TENANT_GET = _locks(select(tenants).where(tenants.c.id == bindparam("id")))
# Routing happens before we know the tenant: bind the transaction to the number's tenant (or to
# none) from the routing table, which row-level security does not guard, then read the tenant.
_ROUTE = (
    b"SELECT now(), set_config('app.tenant_id', COALESCE((SELECT tenant_id::text "
    b"FROM phone_numbers WHERE e164 = %(number)s::text), ''), true)"
)
_TENANT_BY_NUMBER = compiled(
    select(tenants)
    .join(phone_numbers, phone_numbers.c.tenant_id == tenants.c.id)
    .where(phone_numbers.c.e164 == bindparam("number"))
)
_TENANT_SAVE = compiled(
    update(tenants)
    .where(tenants.c.id == bindparam("id"))
    .values({c: bindparam(c) for c in TENANT_COLUMNS if c != "id"} | {"updated_at": func.now()})
)


class PgTenants:
    """Tenants; `by_number` is the webhook hot path (one round trip, routing included)."""

    def __init__(self, db: Transaction) -> None:
        self._db = db

    async def add(self, tenant: Tenant) -> None:
        await self._db.run(_TENANT_INSERT, tenant_row(tenant))

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None:
        row = await self._db.one(_TENANT_GET[lock], {"id": tenant_id})
        return None if row is None else tenant_from_row(row)

    async def by_number(self, number: str) -> Tenant | None:
        await self._db.route(_ROUTE, {"number": number})
        row = await self._db.one(_TENANT_BY_NUMBER, {"number": number})
        tenant = None if row is None else tenant_from_row(row)
        self._db.bound(None if tenant is None else tenant.id)
        return tenant

    async def save(self, tenant: Tenant) -> None:
        await self._db.run(_TENANT_SAVE, tenant_row(tenant))


_NUMBER_ASSIGN = compiled(
    pg_insert(phone_numbers)
    .values(e164=bindparam("number"), tenant_id=bindparam("tenant_id"))
    .on_conflict_do_nothing()
    .returning(phone_numbers.c.e164)
)
_NUMBERS_OF_TENANT = compiled(
    select(phone_numbers.c.e164)
    .where(phone_numbers.c.tenant_id == bindparam("tenant_id"))
    .order_by(phone_numbers.c.e164)
)


class PgPhoneNumbers:
    """The routing table; a taken number is reported by the primary key, not a pre-check."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def assign(self, number: str, tenant_id: UUID) -> None:
        if await self._db.one(_NUMBER_ASSIGN, {"number": number, "tenant_id": tenant_id}) is None:
            raise NumberAlreadyTaken(number)

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]:
        rows = await self._db.all(_NUMBERS_OF_TENANT, {"tenant_id": tenant_id})
        return [row["e164"] for row in rows]


_WEBHOOK_RECORD = compiled(
    pg_insert(webhook_events)
    .values({c: bindparam(c) for c in ("provider", "event_key", "tenant_id", "payload")})
    .on_conflict_do_nothing()
    .returning(webhook_events.c.provider)
)


class PgWebhookEvents:
    """INSERT … ON CONFLICT DO NOTHING: racing replays wait for the first, then do nothing."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def record(
        self, provider: str, key: str, tenant_id: UUID | None, payload: Mapping[str, str]
    ) -> bool:
        params = {
            "provider": provider,
            "event_key": key,
            "tenant_id": tenant_id,
            "payload": Jsonb(dict(payload)),
        }
        return await self._db.one(_WEBHOOK_RECORD, params) is not None


_CALL_INSERT = _insert(calls, CALL_COLUMNS)
_CALLS_OF_CONVERSATION = compiled(
    select(calls)
    .where(
        calls.c.tenant_id == bindparam("tenant_id"),
        calls.c.conversation_id == bindparam("conversation_id"),
    )
    .order_by(calls.c.occurred_at, calls.c.call_sid)
)


class PgCalls:
    """Final call outcomes."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, call: CallRecord) -> None:
        await self._db.run(_CALL_INSERT, call_row(call))

    async def of_conversation(self, tenant_id: UUID, conversation_id: UUID) -> Sequence[CallRecord]:
        params = {"tenant_id": tenant_id, "conversation_id": conversation_id}
        return [call_from_row(row) for row in await self._db.all(_CALLS_OF_CONVERSATION, params)]


_OPEN: ColumnElement[str] = literal_column("'open'")
_CONVERSATION_OPEN = compiled(
    pg_insert(conversations)
    .values(
        {c: bindparam(c) for c in ("tenant_id", "id", "caller", "opened_at")} | {"status": _OPEN}
    )
    .on_conflict_do_nothing(
        index_elements=["tenant_id", "caller"], index_where=text("status = 'open'")
    )
    .returning(*conversations.c)
)
_CONVERSATION_FIND_OPEN = compiled(
    select(conversations).where(
        conversations.c.tenant_id == bindparam("tenant_id"),
        conversations.c.caller == bindparam("caller"),
        conversations.c.status == _OPEN,
    )
)


class PgConversations:
    """One open conversation per caller, enforced by a partial unique index."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        params = {"tenant_id": tenant_id, "id": uuid4(), "caller": caller, "opened_at": now}
        # The open one may close between our two statements; then opening succeeds next round.
        for _ in range(3):
            row = await self._db.one(_CONVERSATION_OPEN, params)
            if row is not None:
                return conversation_from_row(row), True
            row = await self._db.one(_CONVERSATION_FIND_OPEN, params)
            if row is not None:
                return conversation_from_row(row), False
        raise RuntimeError("conversation kept closing while a call was being recorded")


_MESSAGE_INSERT = _insert(messages, MESSAGE_COLUMNS)
_MESSAGE_GET = _locks(
    select(messages).where(
        messages.c.tenant_id == bindparam("tenant_id"), messages.c.id == bindparam("id")
    )
)
_MESSAGE_SAVE = compiled(
    update(messages)
    .where(messages.c.tenant_id == bindparam("tenant_id"), messages.c.id == bindparam("id"))
    .values(
        {c: bindparam(c) for c in ("status", "provider_sid", "send_attempted_at", "error")}
        | {"updated_at": func.now()}
    )
)
_MESSAGES_HELD = compiled(
    select(messages)
    .where(
        messages.c.tenant_id == bindparam("tenant_id"),
        messages.c.status == literal_column("'held'"),
    )
    .order_by(messages.c.created_at, messages.c.id)
    .with_for_update()
)


class PgMessages:
    """Outbound messages, always addressed by (tenant, id)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, message: OutboundMessage) -> None:
        await self._db.run(_MESSAGE_INSERT, message_row(message))

    async def get(
        self, tenant_id: UUID, message_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> OutboundMessage | None:
        row = await self._db.one(_MESSAGE_GET[lock], {"tenant_id": tenant_id, "id": message_id})
        return None if row is None else message_from_row(row)

    async def save(self, message: OutboundMessage) -> None:
        await self._db.run(_MESSAGE_SAVE, message_row(message))

    async def held(self, tenant_id: UUID) -> Sequence[OutboundMessage]:
        rows = await self._db.all(_MESSAGES_HELD, {"tenant_id": tenant_id})
        return [message_from_row(row) for row in rows]
