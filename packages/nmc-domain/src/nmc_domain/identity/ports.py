"""Ports of identity: the users of a tenant, and the unit of work that holds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from nmc_domain.identity.model import User
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock, UnitOfWork

__all__ = ["IdentityUnitOfWork", "UserRepository"]


class UserRepository(Protocol):
    """Users of one tenant; a duplicate subject or email raises Conflict naming it, a user of a
    tenant that does not exist raises TenantNotFound."""

    async def add(self, user: User) -> None: ...

    async def get(
        self, tenant_id: UUID, user_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> User | None: ...

    async def by_subject(self, tenant_id: UUID, subject: str) -> User | None: ...

    async def by_email(self, tenant_id: UUID, email: str) -> User | None: ...

    async def save(self, user: User) -> None: ...

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[User]:
        """Up to `limit` users after the key, ordered by (email, id)."""
        ...

    async def active_owners(self, tenant_id: UUID) -> int:
        """How many active OWNERs the tenant has, each locked for update in id order.

        Every change that may remove an owner calls this before locking anything else, so
        concurrent changes queue in one order instead of deadlocking.
        """
        ...


class IdentityUnitOfWork(UnitOfWork, Protocol):
    """A unit of work that knows the tenant's users."""

    users: UserRepository
