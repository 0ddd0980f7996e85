"""Hand-offs to a person in memory."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.conversation.handoffs import HandoffRecord

__all__ = ["InMemoryHandoffs"]


class InMemoryHandoffs:
    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], HandoffRecord], tenants: ChainMap[UUID, Any]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def add(self, handoff: HandoffRecord) -> None:
        require_tenant(self._tenants, handoff.tenant_id)
        self._rows[handoff.tenant_id, handoff.id] = handoff

    async def release(self, tenant_id: UUID, conversation_id: UUID, at: datetime) -> int:
        running = [
            row
            for row in self._rows.values()
            if (row.tenant_id, row.conversation_id) == (tenant_id, conversation_id)
            and row.released_at is None
            and row.at <= at
        ]
        for row in running:
            self._rows[row.tenant_id, row.id] = attrs.evolve(row, released_at=at)
        return len(running)

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[HandoffRecord]:
        found = [
            row
            for row in self._rows.values()
            if (row.tenant_id, row.conversation_id) == (tenant_id, conversation_id)
        ]
        return sorted(found, key=lambda row: (row.at, row.id))
