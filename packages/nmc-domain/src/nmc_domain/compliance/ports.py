"""Ports of compliance: each tenant's registration status and submission, the opt-out ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from nmc_domain.compliance.contacts import Contact, LedgerEntry
from nmc_domain.compliance.model import Compliance
from nmc_domain.compliance.registration import Registration
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.ports import TenancyUnitOfWork

__all__ = [
    "ComplianceRepository",
    "ComplianceUnitOfWork",
    "ContactRepository",
    "OptOutLedger",
    "RegistrationRepository",
]


class ComplianceRepository(Protocol):
    """The registration status of each tenant (a new tenant's is pending)."""

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Compliance | None:
        """The tenant's status; None when there is no such tenant.

        SHARE is what a send takes, UPDATE what a status change takes: a change waits for the
        sends that read the old status, so none slips out after a rejection or stays held
        after an approval.
        """
        ...

    async def save(self, compliance: Compliance) -> None: ...


class RegistrationRepository(Protocol):
    """Each tenant's current 10DLC submission (at most one: a new one replaces it)."""

    async def get(self, tenant_id: UUID) -> Registration | None:
        """The tenant's submission; None before the first."""
        ...

    async def save(self, registration: Registration) -> None:
        """Store it, replacing the tenant's earlier one."""
        ...


class ContactRepository(Protocol):
    """Each number's opt-out and textable state (a number never stored: the defaults)."""

    async def get(self, tenant_id: UUID, phone: str, *, lock: RowLock = RowLock.NONE) -> Contact:
        """The contact; with a lock, the row is created first if needed, so the lock holds."""
        ...

    async def save(self, contact: Contact) -> None: ...


class OptOutLedger(Protocol):
    """The append-only record of opt-outs and opt-ins."""

    async def append(self, entry: LedgerEntry) -> None: ...

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[LedgerEntry]:
        """Newest first: ordered by (occurred_at, id) descending."""
        ...


class ComplianceUnitOfWork(TenancyUnitOfWork, Protocol):
    """A unit of work that knows the tenants' compliance, submissions, contacts and opt-outs."""

    compliance: ComplianceRepository
    registrations: RegistrationRepository
    contacts: ContactRepository
    opt_outs: OptOutLedger
