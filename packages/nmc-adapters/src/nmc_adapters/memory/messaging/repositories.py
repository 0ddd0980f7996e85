"""Messages in memory."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.messaging.model import MessageStatus, OutboundMessage
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryMessages"]


class InMemoryMessages:
    """Outbound messages, addressed by (tenant, id)."""

    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], OutboundMessage], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def add(self, message: OutboundMessage) -> None:
        require_tenant(self._tenants, message.tenant_id)
        if (message.tenant_id, message.id) in self._rows:
            raise ValueError(f"message {message.id} exists (primary key violation)")
        self._rows[message.tenant_id, message.id] = message

    async def get(
        self, tenant_id: UUID, message_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> OutboundMessage | None:
        return self._rows.get((tenant_id, message_id))

    async def save(self, message: OutboundMessage) -> None:
        key = (message.tenant_id, message.id)
        if key in self._rows:  # an UPDATE of a missing row changes nothing
            self._rows[key] = message

    async def held(self, tenant_id: UUID) -> Sequence[OutboundMessage]:
        found = [
            message
            for message in self._rows.values()
            if message.tenant_id == tenant_id and message.status == MessageStatus.HELD
        ]
        return sorted(found, key=lambda message: (message.created_at, message.id))
