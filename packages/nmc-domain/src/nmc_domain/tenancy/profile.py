"""Reading a tenant's profile: by the number that was called, or as the caller's own tenant."""

from __future__ import annotations

from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal, User
from nmc_domain.shared.errors import TenantNotFound
from nmc_domain.tenancy.model import Tenant
from nmc_domain.tenancy.ports import TenancyUnitOfWork

__all__ = ["find_tenant", "me"]


async def find_tenant(uow: TenancyUnitOfWork, called: str) -> Tenant | None:
    """The tenant a call or text to `called` is for (None for a number we do not route)."""
    async with uow:
        return await uow.tenants.by_number(called)


async def me(uow: TenancyUnitOfWork, principal: Principal) -> tuple[User, Tenant]:
    """The caller and their tenant."""
    async with uow:
        user = await authorize(uow, principal)
        tenant = await uow.tenants.get(principal.tenant_id)
        if tenant is None:  # the user row cannot outlive its tenant (ON DELETE CASCADE)
            raise TenantNotFound(principal.tenant_id)
        return user, tenant
