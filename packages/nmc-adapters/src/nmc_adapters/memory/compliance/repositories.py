"""Compliance in memory: a tenant without a stored status is pending."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.compliance.contacts import Contact, LedgerEntry
from nmc_domain.compliance.model import Compliance
from nmc_domain.compliance.registration import Registration
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryCompliance", "InMemoryContacts", "InMemoryOptOuts", "InMemoryRegistrations"]


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


class InMemoryRegistrations:
    """Each tenant's current submission; saving replaces it."""

    def __init__(self, rows: ChainMap[UUID, Registration], tenants: ChainMap[UUID, Tenant]) -> None:
        self._rows = rows
        self._tenants = tenants

    async def get(self, tenant_id: UUID) -> Registration | None:
        return self._rows.get(tenant_id)

    async def save(self, registration: Registration) -> None:
        require_tenant(self._tenants, registration.tenant_id)
        self._rows[registration.tenant_id] = registration


class InMemoryContacts:
    """Each number's state (a number never stored: the defaults); locks are accepted."""

    def __init__(
        self, rows: ChainMap[tuple[UUID, str], Contact], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def get(self, tenant_id: UUID, phone: str, *, lock: RowLock = RowLock.NONE) -> Contact:
        return self._rows.get((tenant_id, phone), Contact(tenant_id, phone))

    async def save(self, contact: Contact) -> None:
        require_tenant(self._tenants, contact.tenant_id)
        self._rows[contact.tenant_id, contact.phone] = contact


class InMemoryOptOuts:
    """The append-only ledger."""

    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], LedgerEntry], tenants: ChainMap[UUID, Tenant]
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def append(self, entry: LedgerEntry) -> None:
        require_tenant(self._tenants, entry.tenant_id)
        if (entry.tenant_id, entry.id) in self._rows:
            raise ValueError(f"ledger entry {entry.id} exists (primary key violation)")
        self._rows[entry.tenant_id, entry.id] = entry

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[LedgerEntry]:
        rows = [e for e in self._rows.values() if e.tenant_id == tenant_id]
        ordered = sorted(rows, key=lambda e: (e.occurred_at, str(e.id)), reverse=True)
        if after is not None:
            mark = (datetime.fromisoformat(after[0]), str(after[1]))
            ordered = [e for e in ordered if (e.occurred_at, str(e.id)) < mark]
        return ordered[: max(limit, 0)]
