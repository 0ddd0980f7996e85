"""Calls in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import bindparam, select

from nmc_adapters.postgres.queries import insert_of
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_adapters.postgres.telephony.tables import calls
from nmc_domain.telephony.model import CallRecord

__all__ = ["PgCalls"]

ROWS = RowMapper(CallRecord)
_INSERT = insert_of(calls, ROWS.columns)
_OF_CONVERSATION = compiled(
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
        await self._db.run(_INSERT, ROWS.row(call))

    async def of_conversation(self, tenant_id: UUID, conversation_id: UUID) -> Sequence[CallRecord]:
        params = {"tenant_id": tenant_id, "conversation_id": conversation_id}
        return [ROWS.value(row) for row in await self._db.all(_OF_CONVERSATION, params)]
