"""Messages in PostgreSQL, always addressed by (tenant, id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, literal_column, select, update

from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.queries import insert_of, locks
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.messaging.model import InboundMessage, OutboundMessage
from nmc_domain.shared.ports import RowLock

__all__ = ["PgMessages"]

ROWS = RowMapper(OutboundMessage, rename={"to": "to_number", "from_": "from_number"})
INBOUND = RowMapper(
    InboundMessage,
    rename={"to": "to_number", "from_": "from_number", "received_at": "created_at"},
    extra={
        "direction": lambda _: "inbound",
        "status": lambda _: "received",
        "author": lambda _: "contact",
    },
)
_INSERT = insert_of(messages, ROWS.columns)
_INBOUND_INSERT = insert_of(messages, INBOUND.columns)
_OUTBOUND: Any = messages.c.direction == literal_column("'outbound'")
_GET = locks(
    select(messages).where(
        messages.c.tenant_id == bindparam("tenant_id"), messages.c.id == bindparam("id"), _OUTBOUND
    )
)
_OF_CONVERSATION = compiled(
    select(messages)
    .where(
        messages.c.tenant_id == bindparam("tenant_id"),
        messages.c.conversation_id == bindparam("conversation_id"),
    )
    # A text and the replies stored in its transaction share now(): the text comes first
    # ('inbound' sorts before 'outbound').
    .order_by(messages.c.created_at, messages.c.direction, messages.c.id)
)
# Texts that have not left: held, or queued with no send attempt yet (an attempted one may
# be out already; the provider's answer tells).
_CANCEL_PENDING = (
    b"UPDATE messages SET status = 'canceled', error = 'recipient opted out', "
    b"updated_at = now() WHERE tenant_id = %(tenant_id)s::uuid "
    b"AND to_number = %(phone)s::text AND direction = 'outbound' "
    b"AND (status = 'held' OR (status = 'queued' AND send_attempted_at IS NULL)) RETURNING id"
)
_SAVE = compiled(
    update(messages)
    .where(messages.c.tenant_id == bindparam("tenant_id"), messages.c.id == bindparam("id"))
    .values(
        {
            c: bindparam(c)
            for c in ("status", "provider_sid", "send_attempted_at", "error", "accepted_at")
        }
        | {"updated_at": func.now()}
    )
)
# Only a reconciliation (a send of unknown outcome) asks this, so it has no index of its own.
_ALIKE = compiled(
    select(messages)
    .where(
        messages.c.tenant_id == bindparam("tenant_id"),
        messages.c.to_number == bindparam("to_number"),
        messages.c.from_number == bindparam("from_number"),
        messages.c.body == bindparam("body"),
        messages.c.id != bindparam("id"),
        messages.c.created_at >= bindparam("since"),
        _OUTBOUND,
    )
    .order_by(messages.c.created_at, messages.c.id)
)
_HELD = compiled(
    select(messages)
    .where(
        messages.c.tenant_id == bindparam("tenant_id"),
        messages.c.status == literal_column("'held'"),
    )
    .order_by(messages.c.created_at, messages.c.id)
    .with_for_update()
)


class PgMessages:
    """Outbound messages."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, message: OutboundMessage) -> None:
        await self._db.run(_INSERT, ROWS.row(message))

    async def get(
        self, tenant_id: UUID, message_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> OutboundMessage | None:
        row = await self._db.one(_GET[lock], {"tenant_id": tenant_id, "id": message_id})
        return None if row is None else ROWS.value(row)

    async def save(self, message: OutboundMessage) -> None:
        await self._db.run(_SAVE, ROWS.row(message))

    async def held(self, tenant_id: UUID) -> Sequence[OutboundMessage]:
        rows = await self._db.all(_HELD, {"tenant_id": tenant_id})
        return [ROWS.value(row) for row in rows]

    async def add_inbound(self, message: InboundMessage) -> None:
        await self._db.run(_INBOUND_INSERT, INBOUND.row(message))

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[OutboundMessage | InboundMessage]:
        params = {"tenant_id": tenant_id, "conversation_id": conversation_id}
        rows = await self._db.all(_OF_CONVERSATION, params)
        return [
            INBOUND.value(row) if row["direction"] == "inbound" else ROWS.value(row) for row in rows
        ]

    async def alike(
        self, tenant_id: UUID, message: OutboundMessage, *, since: datetime
    ) -> Sequence[OutboundMessage]:
        params = {
            "tenant_id": tenant_id,
            "to_number": message.to,
            "from_number": message.from_,
            "body": message.body,
            "id": message.id,
            "since": since,
        }
        return [ROWS.value(row) for row in await self._db.all(_ALIKE, params)]

    async def cancel_pending_to(self, tenant_id: UUID, phone: str) -> Sequence[UUID]:
        rows = await self._db.all(_CANCEL_PENDING, {"tenant_id": tenant_id, "phone": phone})
        return [row["id"] for row in rows]
