"""Compliance: the 10DLC gate that holds a tenant's outbound SMS until approval."""

from __future__ import annotations

from uuid import UUID

from nmc_domain.errors import TenantNotFound
from nmc_domain.events import DomainEvent
from nmc_domain.model.tenant import Tenant
from nmc_domain.ports import RowLock, UnitOfWork

__all__ = ["approve_compliance", "reject_compliance"]


async def approve_compliance(uow: UnitOfWork, tenant_id: UUID) -> Tenant:
    """Approve; the worker then releases the held messages (ComplianceStatusChanged)."""
    async with uow:
        tenant = await _locked(uow, tenant_id)
        changed, events = tenant.approve(await uow.now())
        return await _store(uow, changed, events)


async def reject_compliance(uow: UnitOfWork, tenant_id: UUID, reason: str) -> Tenant:
    """Reject with the carrier's reason; messages stay held."""
    async with uow:
        tenant = await _locked(uow, tenant_id)
        changed, events = tenant.reject(reason, await uow.now())
        return await _store(uow, changed, events)


async def _locked(uow: UnitOfWork, tenant_id: UUID) -> Tenant:
    # FOR UPDATE waits for any dispatch that read the old status (FOR SHARE) to finish, so a
    # message is either sent under the old status or held before the release runs.
    await uow.bind_tenant(tenant_id)
    tenant = await uow.tenants.get(tenant_id, lock=RowLock.UPDATE)
    if tenant is None:
        raise TenantNotFound(tenant_id)
    return tenant


async def _store(uow: UnitOfWork, tenant: Tenant, events: tuple[DomainEvent, ...]) -> Tenant:
    if events:
        await uow.tenants.save(tenant)
        for event in events:
            await uow.outbox.add(event)
        await uow.commit()
    return tenant
