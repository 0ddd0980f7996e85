"""Ports of tenancy: tenants, the number routing table, and reading typed phone numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from nmc_domain.identity.ports import IdentityUnitOfWork
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = [
    "PhoneNumberParser",
    "PhoneNumberRepository",
    "TenancyUnitOfWork",
    "TenantRepository",
]


class PhoneNumberParser(Protocol):
    """Reads what a person typed as a phone number; returns E.164 or raises InvalidPhoneNumber."""

    def parse(self, text: str, *, field: str) -> str: ...


class TenantRepository(Protocol):
    """Tenants by id, and by any phone number routed to them."""

    async def add(self, tenant: Tenant) -> None: ...

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None: ...

    async def by_number(self, number: str) -> Tenant | None:
        """The tenant a number routes to; binds the unit of work to it (or to none)."""
        ...

    async def save(self, tenant: Tenant) -> None:
        """Write the profile of an existing tenant."""
        ...


class PhoneNumberRepository(Protocol):
    """The global routing table: one E.164 number belongs to exactly one tenant."""

    async def assign(self, number: str, tenant_id: UUID) -> None:
        """Route `number` to the tenant; raises NumberAlreadyTaken when it is anyone's already."""
        ...

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]: ...


class TenancyUnitOfWork(IdentityUnitOfWork, Protocol):
    """A unit of work that knows tenants and their numbers (and, below them, users)."""

    tenants: TenantRepository
    numbers: PhoneNumberRepository
