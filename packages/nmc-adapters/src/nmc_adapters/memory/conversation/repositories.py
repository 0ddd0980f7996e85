"""Conversations in memory: at most one not closed per (tenant, caller)."""

from __future__ import annotations

import uuid
from collections import ChainMap
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.conversation.model import Conversation, ConversationStatus, OpenedBy
from nmc_domain.conversation.settings import ConversationSettings
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryConversationSettings", "InMemoryConversations"]


class InMemoryConversations:
    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], Conversation], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def open_or_get(
        self,
        tenant_id: UUID,
        caller: str,
        business_number: str,
        now: datetime,
        opened_by: OpenedBy,
    ) -> tuple[Conversation, bool]:
        found = await self.active(tenant_id, caller)
        if found is not None:
            return found, False
        require_tenant(self._tenants, tenant_id)
        opened = Conversation(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            caller=caller,
            business_number=business_number,
            status=ConversationStatus.OPEN,
            opened_at=now,
            last_activity_at=now,
            opened_by=opened_by,
        )
        self._rows[tenant_id, opened.id] = opened
        return opened, True

    async def active(
        self, tenant_id: UUID, caller: str, *, lock: RowLock = RowLock.NONE
    ) -> Conversation | None:
        for conversation in self._rows.values():
            if (conversation.tenant_id, conversation.caller) == (tenant_id, caller) and (
                conversation.status is not ConversationStatus.CLOSED
            ):
                return conversation
        return None

    async def get(
        self, tenant_id: UUID, conversation_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Conversation | None:
        return self._rows.get((tenant_id, conversation_id))

    async def save(self, conversation: Conversation) -> None:
        key = (conversation.tenant_id, conversation.id)
        if key in self._rows:
            self._rows[key] = conversation

    async def page(
        self,
        tenant_id: UUID,
        status: ConversationStatus | None,
        after: PageKey | None,
        limit: int,
    ) -> Sequence[Conversation]:
        rows = [
            c
            for c in self._rows.values()
            if c.tenant_id == tenant_id and (status is None or c.status is status)
        ]
        ordered = sorted(rows, key=lambda c: (c.idle_since(), str(c.id)), reverse=True)
        if after is not None:
            mark = (datetime.fromisoformat(after[0]), str(after[1]))
            ordered = [c for c in ordered if (c.idle_since(), str(c.id)) < mark]
        return ordered[: max(limit, 0)]


class InMemoryConversationSettings:
    def __init__(
        self, rows: ChainMap[UUID, ConversationSettings], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def get(self, tenant_id: UUID) -> ConversationSettings:
        return self._rows.get(tenant_id, ConversationSettings(tenant_id))

    async def save(self, settings: ConversationSettings) -> None:
        require_tenant(self._tenants, settings.tenant_id)
        self._rows[settings.tenant_id] = settings
