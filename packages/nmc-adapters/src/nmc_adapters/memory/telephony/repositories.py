"""Calls in memory."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.telephony.model import CallRecord
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryCalls"]


class InMemoryCalls:
    """Final call outcomes, one per (tenant, call sid)."""

    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], CallRecord], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def add(self, call: CallRecord) -> None:
        require_tenant(self._tenants, call.tenant_id)
        for other in self._rows.values():
            if (other.tenant_id, other.call_sid) == (call.tenant_id, call.call_sid):
                raise ValueError(f"call {call.call_sid} exists (unique violation)")
        self._rows[call.tenant_id, call.id] = call

    async def of_conversation(self, tenant_id: UUID, conversation_id: UUID) -> Sequence[CallRecord]:
        found = [
            call
            for call in self._rows.values()
            if call.tenant_id == tenant_id and call.conversation_id == conversation_id
        ]
        return sorted(found, key=lambda call: (call.occurred_at, call.call_sid))
