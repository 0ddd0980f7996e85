"""The owner's side of the 10DLC gate: submit the brand and campaign, see where they stand."""

from __future__ import annotations

import attrs

from nmc_domain.compliance.events import RegistrationSubmitted
from nmc_domain.compliance.model import Compliance
from nmc_domain.compliance.ports import ComplianceUnitOfWork
from nmc_domain.compliance.registration import Brand, Campaign, Registration
from nmc_domain.compliance.registration_checks import registration_of
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import TenantNotFound
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["ComplianceView", "Submitted", "show_compliance", "submit_registration"]


@attrs.frozen
class ComplianceView:
    """Where a tenant's registration stands (the reason of a rejection), and what it submitted."""

    tenant: Tenant
    compliance: Compliance
    registration: Registration | None


@attrs.frozen
class Submitted:
    view: ComplianceView
    replaced: bool  # an earlier submission was replaced (the first one is created)


async def submit_registration(
    uow: ComplianceUnitOfWork, principal: Principal, brand: Brand, campaign: Campaign
) -> Submitted:
    """Store the submission (replacing any earlier one) and ask for it to go to the registry.

    The status goes back to pending, a rejection's reason cleared; an approved tenant stays
    approved (see `Compliance.resubmit`). OWNER only.
    """
    async with uow:
        await authorize(uow, principal, owner=True)
        now = await uow.now()
        registration = registration_of(principal.tenant_id, brand, campaign, now)
        # The lock a verdict (approve, reject) takes too: one of them waits for the other.
        compliance = await uow.compliance.get(principal.tenant_id, lock=RowLock.UPDATE)
        tenant = await uow.tenants.get(principal.tenant_id)
        if compliance is None or tenant is None:
            raise TenantNotFound(principal.tenant_id)
        earlier = await uow.registrations.get(principal.tenant_id)
        changed, events = compliance.resubmit(now)
        await uow.registrations.save(registration)
        if events:
            await uow.compliance.save(changed)
        submitted = RegistrationSubmitted(
            principal.tenant_id, registration.brand, registration.campaign, now
        )
        for event in (*events, submitted):
            await uow.outbox.add(event)
        await uow.commit()
        return Submitted(ComplianceView(tenant, changed, registration), earlier is not None)


async def show_compliance(uow: ComplianceUnitOfWork, principal: Principal) -> ComplianceView:
    """The status, a rejection's reason, and the current submission (any role)."""
    async with uow:
        await authorize(uow, principal)
        compliance = await uow.compliance.get(principal.tenant_id)
        tenant = await uow.tenants.get(principal.tenant_id)
        if compliance is None or tenant is None:
            raise TenantNotFound(principal.tenant_id)
        registration = await uow.registrations.get(principal.tenant_id)
        return ComplianceView(tenant, compliance, registration)
