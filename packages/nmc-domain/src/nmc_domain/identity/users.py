"""Users of the tenant API: who is there, adding people, switching them off."""

from __future__ import annotations

from uuid import UUID

from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal, Role, User, new_user
from nmc_domain.identity.ports import IdentityUnitOfWork
from nmc_domain.shared.errors import Conflict, NotFound
from nmc_domain.shared.pages import Page, PageKey, check_limit, page_of
from nmc_domain.shared.ports import RowLock

__all__ = [
    "add_user",
    "add_user_for_tenant",
    "deactivate_user",
    "deactivate_user_by_email",
    "list_users",
]


def _key(user: User) -> PageKey:
    return (user.email, user.id)


async def list_users(
    uow: IdentityUnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[User]:
    """The tenant's users by email (OWNER)."""
    async with uow:
        await authorize(uow, principal, owner=True)  # who asks comes before what they ask
        limit = check_limit(limit)
        rows = await uow.users.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, _key)


async def add_user(
    uow: IdentityUnitOfWork,
    principal: Principal,
    *,
    email: str,
    role: str,
    subject: str | None = None,
) -> User:
    """Add a user to the caller's tenant (OWNER); a taken email or subject is a Conflict."""
    async with uow:
        await authorize(uow, principal, owner=True)
        return await _add(uow, principal.tenant_id, email, role, subject)


async def add_user_for_tenant(
    uow: IdentityUnitOfWork, tenant_id: UUID, *, email: str, role: str, subject: str | None = None
) -> User:
    """The operator's way (`nmc user add`): no caller, just a tenant (TenantNotFound if none)."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        return await _add(uow, tenant_id, email, role, subject)


async def _add(
    uow: IdentityUnitOfWork, tenant_id: UUID, email: str, role: str, subject: str | None
) -> User:
    user = new_user(tenant_id=tenant_id, email=email, role=role, subject=subject)
    await uow.users.add(user)
    await uow.commit()
    return user


async def deactivate_user(uow: IdentityUnitOfWork, principal: Principal, user_id: UUID) -> User:
    """Switch a user of the caller's tenant off (OWNER); their tokens stop working at once."""
    async with uow:
        await authorize(uow, principal, owner=True)
        owners = await uow.users.active_owners(principal.tenant_id)  # locks first, in id order
        user = await uow.users.get(principal.tenant_id, user_id, lock=RowLock.UPDATE)
        if user is None:
            raise NotFound("user", user_id)
        return await _deactivate(uow, user, owners)


async def deactivate_user_by_email(uow: IdentityUnitOfWork, tenant_id: UUID, email: str) -> User:
    """The operator's way (`nmc user deactivate`)."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        owners = await uow.users.active_owners(tenant_id)
        user = await uow.users.by_email(tenant_id, email.strip().lower())
        if user is None:
            raise NotFound("user", email)
        return await _deactivate(uow, user, owners)


async def _deactivate(uow: IdentityUnitOfWork, user: User, owners: int) -> User:
    if not user.active:
        return user
    if user.role is Role.OWNER and owners <= 1:
        raise Conflict("user", "the last active OWNER cannot be deactivated")
    off = user.deactivated()
    await uow.users.save(off)
    await uow.commit()
    return off
