"""Messages in PostgreSQL, always addressed by (tenant, id)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import bindparam, func, literal_column, select, update

from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.queries import by_id, insert_of
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.messaging.model import OutboundMessage
from nmc_domain.shared.ports import RowLock

__all__ = ["PgMessages"]

ROWS = RowMapper(OutboundMessage, rename={"to": "to_number", "from_": "from_number"})
_INSERT = insert_of(messages, ROWS.columns)
_GET = by_id(messages)
_SAVE = compiled(
    update(messages)
    .where(messages.c.tenant_id == bindparam("tenant_id"), messages.c.id == bindparam("id"))
    .values(
        {c: bindparam(c) for c in ("status", "provider_sid", "send_attempted_at", "error")}
        | {"updated_at": func.now()}
    )
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
