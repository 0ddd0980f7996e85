"""Compliance in memory: a tenant without a stored status is pending."""

from __future__ import annotations

from collections import ChainMap
from uuid import UUID

from nmc_domain.compliance.model import Compliance
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryCompliance"]


class InMemoryCompliance:
    """Statuses by tenant id (PgCompliance keeps them on the tenant's own row)."""

    def __init__(self, rows: ChainMap[UUID, Compliance], tenants: ChainMap[UUID, Tenant]) -> None:
        self._rows = rows
        self._tenants = tenants

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Compliance | None:
        if tenant_id not in self._tenants:
            return None
        return self._rows.get(tenant_id, Compliance(tenant_id))

    async def save(self, compliance: Compliance) -> None:
        if compliance.tenant_id in self._tenants:  # an UPDATE of a missing row changes nothing
            self._rows[compliance.tenant_id] = compliance
