"""Messages in memory."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import attrs

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.messaging.model import InboundMessage, MessageStatus, OutboundMessage
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryMessages"]


class InMemoryMessages:
    """Outbound messages, addressed by (tenant, id)."""

    def __init__(
        self,
        rows: ChainMap[tuple[UUID, UUID], OutboundMessage],
        inbound: ChainMap[tuple[UUID, UUID], InboundMessage],
        tenants: ChainMap[UUID, Tenant],
    ) -> None:
        self._rows = rows
        self._inbound = inbound
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

    async def add_inbound(self, message: InboundMessage) -> None:
        require_tenant(self._tenants, message.tenant_id)
        self._inbound[message.tenant_id, message.id] = message

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[OutboundMessage | InboundMessage]:
        both: list[OutboundMessage | InboundMessage] = [
            *self._rows.values(),
            *self._inbound.values(),
        ]
        found = [
            m for m in both if m.tenant_id == tenant_id and m.conversation_id == conversation_id
        ]
        return sorted(found, key=_written)

    async def alike(
        self, tenant_id: UUID, message: OutboundMessage, *, since: datetime
    ) -> Sequence[OutboundMessage]:
        found = [
            other
            for other in self._rows.values()
            if other.tenant_id == tenant_id
            and other.id != message.id
            and (other.to, other.from_, other.body) == (message.to, message.from_, message.body)
            and other.created_at >= since
        ]
        return sorted(found, key=lambda other: (other.created_at, other.id))

    async def cancel_pending_to(self, tenant_id: UUID, phone: str) -> Sequence[UUID]:
        canceled = []
        for key, message in list(self._rows.items()):
            pending = message.status is MessageStatus.HELD or (
                message.status is MessageStatus.QUEUED and message.send_attempted_at is None
            )
            if (message.tenant_id, message.to) == (tenant_id, phone) and pending:
                self._rows[key] = attrs.evolve(
                    message, status=MessageStatus.CANCELED, error="recipient opted out"
                )
                canceled.append(message.id)
        return canceled


def _written(message: OutboundMessage | InboundMessage) -> tuple[object, bool, str]:
    # A text and the replies stored in its transaction share the clock: the text comes first.
    if isinstance(message, OutboundMessage):
        return (message.created_at, True, str(message.id))
    return (message.received_at, False, str(message.id))
