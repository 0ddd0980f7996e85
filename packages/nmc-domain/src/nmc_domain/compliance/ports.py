"""Ports of compliance: each tenant's registration status."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from nmc_domain.compliance.model import Compliance
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.ports import TenancyUnitOfWork

__all__ = ["ComplianceRepository", "ComplianceUnitOfWork"]


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


class ComplianceUnitOfWork(TenancyUnitOfWork, Protocol):
    """A unit of work that knows the tenants' compliance."""

    compliance: ComplianceRepository
