"""The subscription mirror in memory."""

from __future__ import annotations

from collections import ChainMap
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.billing.model import Subscription
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemorySubscriptions"]


class InMemorySubscriptions:
    """One subscription per tenant; a customer belongs to one tenant (the unique key)."""

    def __init__(self, rows: ChainMap[UUID, Subscription], tenants: ChainMap[UUID, Tenant]) -> None:
        self._rows = rows
        self._tenants = tenants

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Subscription | None:
        return self._rows.get(tenant_id)

    async def by_customer(self, customer_id: str) -> Subscription | None:
        return next((s for s in self._rows.values() if s.customer_id == customer_id), None)

    async def save(self, subscription: Subscription) -> None:
        require_tenant(self._tenants, subscription.tenant_id)
        holder = await self.by_customer(subscription.customer_id)
        if holder is not None and holder.tenant_id != subscription.tenant_id:
            raise Conflict("customer_id", "belongs to another tenant")
        self._rows[subscription.tenant_id] = subscription
