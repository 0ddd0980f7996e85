"""Conversations in PostgreSQL: one open per caller, enforced by a partial unique index."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import bindparam, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.sql import ColumnElement

from nmc_adapters.postgres.conversation.tables import conversations
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.conversation.model import Conversation

__all__ = ["PgConversations"]

ROWS = RowMapper(Conversation)
_OPEN: ColumnElement[str] = literal_column("'open'")
_OPEN_ONE = compiled(
    pg_insert(conversations)
    .values(
        {c: bindparam(c) for c in ("tenant_id", "id", "caller", "opened_at")} | {"status": _OPEN}
    )
    .on_conflict_do_nothing(
        index_elements=["tenant_id", "caller"], index_where=text("status = 'open'")
    )
    .returning(*conversations.c)
)
_FIND_OPEN = compiled(
    select(conversations).where(
        conversations.c.tenant_id == bindparam("tenant_id"),
        conversations.c.caller == bindparam("caller"),
        conversations.c.status == _OPEN,
    )
)


class PgConversations:
    """Conversations of the tenant the unit of work is bound to."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        params = {"tenant_id": tenant_id, "id": uuid4(), "caller": caller, "opened_at": now}
        # The open one may close between our two statements; then opening succeeds next round.
        for _ in range(3):
            row = await self._db.one(_OPEN_ONE, params)
            if row is not None:
                return ROWS.value(row), True
            row = await self._db.one(_FIND_OPEN, params)
            if row is not None:
                return ROWS.value(row), False
        raise RuntimeError("conversation kept closing while a call was being recorded")
