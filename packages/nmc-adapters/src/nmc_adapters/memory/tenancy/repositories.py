"""Tenants and the routing table in memory."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.errors import NumberAlreadyTaken
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryPhoneNumbers", "InMemoryTenants"]

Tenants = ChainMap[UUID, Tenant]


class InMemoryTenants:
    """Tenants by id, and by a number routed to them."""

    def __init__(self, rows: Tenants, numbers: ChainMap[str, UUID]) -> None:
        self._rows = rows
        self._numbers = numbers

    async def add(self, tenant: Tenant) -> None:
        if tenant.id in self._rows:
            raise ValueError(f"tenant {tenant.id} exists (primary key violation)")
        self._rows[tenant.id] = tenant

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None:
        return self._rows.get(tenant_id)

    async def by_number(self, number: str) -> Tenant | None:
        tenant_id = self._numbers.get(number)
        return None if tenant_id is None else self._rows.get(tenant_id)

    async def save(self, tenant: Tenant) -> None:
        if tenant.id in self._rows:  # an UPDATE of a missing row changes nothing
            self._rows[tenant.id] = tenant


class InMemoryPhoneNumbers:
    """The routing table: one number, one tenant."""

    def __init__(self, rows: ChainMap[str, UUID], tenants: Tenants) -> None:
        self._rows = rows
        self._tenants = tenants

    async def assign(self, number: str, tenant_id: UUID) -> None:
        if number in self._rows:
            raise NumberAlreadyTaken(number)
        require_tenant(self._tenants, tenant_id)
        self._rows[number] = tenant_id

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]:
        return sorted(number for number, owner in self._rows.items() if owner == tenant_id)
