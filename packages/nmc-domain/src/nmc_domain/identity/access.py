"""Who may do what: the token names a user; the database says their role, every time."""

from __future__ import annotations

from nmc_domain.identity.model import Principal, User
from nmc_domain.identity.ports import IdentityUnitOfWork
from nmc_domain.shared.errors import Unauthenticated

__all__ = ["authorize", "identify"]


async def authorize(uow: IdentityUnitOfWork, principal: Principal, *, owner: bool = False) -> User:
    """Scope the unit of work to the caller's tenant and return the caller, if allowed.

    Unknown user: Unauthenticated (401). Deactivated, or not an OWNER where one is needed:
    PermissionDenied (403). Role and active flag are read now, so a change applies at once.
    """
    await uow.bind_tenant(principal.tenant_id)
    user = await uow.users.by_subject(principal.tenant_id, principal.subject)
    if user is None:
        raise Unauthenticated("unknown user")
    return user.require_owner() if owner else user.require_active()


async def identify(uow: IdentityUnitOfWork, principal: Principal, *, owner: bool = False) -> User:
    """`authorize` in a unit of work of its own: the API's gate before it reads any input.

    The use cases authorize again inside their own transaction, so a role change between the
    two is still honoured.
    """
    async with uow:
        return await authorize(uow, principal, owner=owner)
