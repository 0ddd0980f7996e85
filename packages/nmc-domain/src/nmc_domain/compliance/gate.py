"""The 10DLC gate: operators record the carriers' verdict; approval releases held messages."""

from __future__ import annotations

from uuid import UUID

from nmc_domain.compliance.model import Compliance
from nmc_domain.compliance.ports import ComplianceUnitOfWork
from nmc_domain.shared.errors import TenantNotFound
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["approve_compliance", "reject_compliance"]


async def approve_compliance(
    uow: ComplianceUnitOfWork, tenant_id: UUID
) -> tuple[Tenant, Compliance]:
    """Approve; the worker then releases the held messages (ComplianceStatusChanged)."""
    async with uow:
        tenant, compliance = await _locked(uow, tenant_id)
        changed, events = compliance.approve(await uow.now())
        return tenant, await _store(uow, changed, events)


async def reject_compliance(
    uow: ComplianceUnitOfWork, tenant_id: UUID, reason: str
) -> tuple[Tenant, Compliance]:
    """Reject with the carrier's reason; messages stay held."""
    async with uow:
        tenant, compliance = await _locked(uow, tenant_id)
        changed, events = compliance.reject(reason, await uow.now())
        return tenant, await _store(uow, changed, events)


async def _locked(uow: ComplianceUnitOfWork, tenant_id: UUID) -> tuple[Tenant, Compliance]:
    # FOR UPDATE waits for any dispatch that read the old status (FOR SHARE) to finish, so a
    # message is either sent under the old status or held before the release runs.
    await uow.bind_tenant(tenant_id)
    compliance = await uow.compliance.get(tenant_id, lock=RowLock.UPDATE)
    tenant = await uow.tenants.get(tenant_id)
    if compliance is None or tenant is None:
        raise TenantNotFound(tenant_id)
    return tenant, compliance


async def _store(
    uow: ComplianceUnitOfWork, compliance: Compliance, events: tuple[DomainEvent, ...]
) -> Compliance:
    if events:
        await uow.compliance.save(compliance)
        for event in events:
            await uow.outbox.add(event)
        await uow.commit()
    return compliance
