"""Hand-offs to a person in PostgreSQL (`conversation_handoffs`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, select

from nmc_adapters.postgres.conversation.tables import conversation_handoffs
from nmc_adapters.postgres.queries import insert_of
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.conversation.handoffs import HandoffRecord

__all__ = ["PgHandoffs"]

ROWS = RowMapper(HandoffRecord)
_INSERT = insert_of(conversation_handoffs, ROWS.columns)
_RELEASE = (
    b"UPDATE conversation_handoffs SET released_at = %(at)s::timestamptz "
    b"WHERE tenant_id = %(tenant_id)s::uuid AND conversation_id = %(conversation_id)s::uuid "
    b"AND released_at IS NULL AND at <= %(at)s::timestamptz RETURNING id"
)
_OF_CONVERSATION = compiled(
    select(conversation_handoffs)
    .where(
        conversation_handoffs.c.tenant_id == bindparam("tenant_id"),
        conversation_handoffs.c.conversation_id == bindparam("conversation_id"),
    )
    .order_by(conversation_handoffs.c.at, conversation_handoffs.c.id)
)


class PgHandoffs:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, handoff: HandoffRecord) -> None:
        await self._db.run(_INSERT, ROWS.row(handoff))

    async def release(self, tenant_id: UUID, conversation_id: UUID, at: datetime) -> int:
        params = {"tenant_id": tenant_id, "conversation_id": conversation_id, "at": at}
        return len(await self._db.all(_RELEASE, params))  # rowcount waits for a pipeline sync

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[HandoffRecord]:
        params = {"tenant_id": tenant_id, "conversation_id": conversation_id}
        return [ROWS.value(row) for row in await self._db.all(_OF_CONVERSATION, params)]
