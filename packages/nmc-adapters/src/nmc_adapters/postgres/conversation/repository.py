"""Conversations in PostgreSQL: at most one not closed per caller (a partial unique index)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import cattrs
from psycopg.types.json import Jsonb
from sqlalchemy import and_, bindparam, func, literal_column, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.conversation.tables import conversation_settings, conversations
from nmc_adapters.postgres.queries import locks
from nmc_adapters.postgres.rows import CONVERTER, RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.conversation.memory import Memory
from nmc_domain.conversation.model import Conversation, ConversationStatus, OpenedBy
from nmc_domain.conversation.settings import ConversationSettings
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = ["PgConversationSettings", "PgConversations"]


def _json_converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    return converter


_JSON = _json_converter()
# The assistant's memory is JSON in its column.
CONVERTER.register_unstructure_hook(Memory, lambda memory: Jsonb(_JSON.unstructure(memory)))
CONVERTER.register_structure_hook(Memory, lambda value, _: _JSON.structure(value, Memory))

ROWS = RowMapper(Conversation)
_NOT_CLOSED: Any = conversations.c.status != literal_column("'closed'")
_OPEN_ONE = compiled(
    pg_insert(conversations)
    .values({c: bindparam(c) for c in ROWS.columns})
    .on_conflict_do_nothing(
        index_elements=["tenant_id", "caller"], index_where=text("status <> 'closed'")
    )
    .returning(*conversations.c)
)
_ACTIVE = locks(
    select(conversations).where(
        conversations.c.tenant_id == bindparam("tenant_id"),
        conversations.c.caller == bindparam("caller"),
        _NOT_CLOSED,
    )
)
_GET = locks(
    select(conversations).where(
        conversations.c.tenant_id == bindparam("tenant_id"),
        conversations.c.id == bindparam("id"),
    )
)
_SAVE = compiled(
    update(conversations)
    .where(
        conversations.c.tenant_id == bindparam("tenant_id"),
        conversations.c.id == bindparam("id"),
    )
    .values(
        {
            c: bindparam(c)
            for c in ("status", "closed_at", "last_activity_at", "text_back_id", "memory")
        }
    )
)
_ACTIVITY = func.coalesce(conversations.c.last_activity_at, conversations.c.opened_at)


def _page_query(with_status: bool, with_after: bool) -> bytes:
    query = select(conversations).where(conversations.c.tenant_id == bindparam("tenant_id"))
    if with_status:
        query = query.where(conversations.c.status == bindparam("status"))
    if with_after:
        mark: Any = bindparam("after_key")
        query = query.where(
            or_(
                mark > _ACTIVITY,
                and_(mark == _ACTIVITY, conversations.c.id < bindparam("after_id")),
            )
        )
    ordered = query.order_by(_ACTIVITY.desc(), conversations.c.id.desc())
    return compiled(ordered.limit(bindparam("limit")))


_PAGES = {(s, a): _page_query(s, a) for s in (False, True) for a in (False, True)}


class PgConversations:
    """Conversations of the tenant the unit of work is bound to."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def open_or_get(
        self,
        tenant_id: UUID,
        caller: str,
        business_number: str,
        now: datetime,
        opened_by: OpenedBy,
    ) -> tuple[Conversation, bool]:
        fresh = Conversation(
            id=uuid4(),
            tenant_id=tenant_id,
            caller=caller,
            business_number=business_number,
            status=ConversationStatus.OPEN,
            opened_at=now,
            last_activity_at=now,
            opened_by=opened_by,
        )
        row = ROWS.row(fresh)
        # The one not closed may close between our statements; then opening succeeds next round.
        for _ in range(3):
            found = await self._db.one(_OPEN_ONE, row)
            if found is not None:  # the new row is ours (the insert locked it)
                return ROWS.value(found), True
            found = await self._db.one(_ACTIVE[RowLock.UPDATE], row)
            if found is not None:
                return ROWS.value(found), False
        raise RuntimeError("conversation kept closing while it was being opened")

    async def active(
        self, tenant_id: UUID, caller: str, *, lock: RowLock = RowLock.NONE
    ) -> Conversation | None:
        row = await self._db.one(_ACTIVE[lock], {"tenant_id": tenant_id, "caller": caller})
        return None if row is None else ROWS.value(row)

    async def get(
        self, tenant_id: UUID, conversation_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Conversation | None:
        row = await self._db.one(_GET[lock], {"tenant_id": tenant_id, "id": conversation_id})
        return None if row is None else ROWS.value(row)

    async def save(self, conversation: Conversation) -> None:
        await self._db.run(_SAVE, ROWS.row(conversation))

    async def page(
        self,
        tenant_id: UUID,
        status: ConversationStatus | None,
        after: PageKey | None,
        limit: int,
    ) -> Sequence[Conversation]:
        params: dict[str, Any] = {"tenant_id": tenant_id, "limit": limit}
        if status is not None:
            params["status"] = status.value
        if after is not None:
            params |= {"after_key": datetime.fromisoformat(after[0]), "after_id": after[1]}
        rows = await self._db.all(_PAGES[(status is not None, after is not None)], params)
        return [ROWS.value(row) for row in rows]


SETTINGS = RowMapper(ConversationSettings)
_SETTINGS_GET = compiled(
    select(conversation_settings).where(conversation_settings.c.tenant_id == bindparam("tenant_id"))
)
_SETTINGS_PUT = compiled(
    pg_insert(conversation_settings)
    .values({c: bindparam(c) for c in SETTINGS.columns})
    .on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={c: bindparam(c) for c in SETTINGS.columns if c != "tenant_id"}
        | {"updated_at": func.now()},
    )
)


class PgConversationSettings:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, tenant_id: UUID) -> ConversationSettings:
        row = await self._db.one(_SETTINGS_GET, {"tenant_id": tenant_id})
        return ConversationSettings(tenant_id) if row is None else SETTINGS.value(row)

    async def save(self, settings: ConversationSettings) -> None:
        await self._db.run(_SETTINGS_PUT, SETTINGS.row(settings))
