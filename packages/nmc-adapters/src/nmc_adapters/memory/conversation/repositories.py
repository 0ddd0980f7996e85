"""Conversations in memory."""

from __future__ import annotations

import uuid
from collections import ChainMap
from datetime import datetime
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.conversation.model import Conversation, ConversationStatus
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryConversations"]


class InMemoryConversations:
    """At most one open conversation per (tenant, caller)."""

    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], Conversation], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        for conversation in self._rows.values():
            if (conversation.tenant_id, conversation.caller) == (tenant_id, caller) and (
                conversation.status == ConversationStatus.OPEN
            ):
                return conversation, False
        require_tenant(self._tenants, tenant_id)
        opened = Conversation(uuid.uuid4(), tenant_id, caller, ConversationStatus.OPEN, now)
        self._rows[tenant_id, opened.id] = opened
        return opened, True
