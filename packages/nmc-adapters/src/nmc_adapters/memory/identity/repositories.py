"""Users in memory, with PgUsers' semantics."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Sequence
from uuid import UUID

from nmc_adapters.memory.tables import Key, check_unique, page
from nmc_domain.identity.model import Role, User
from nmc_domain.shared.errors import Conflict, TenantNotFound
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryUsers"]

# The reasons PgUsers gives, so a 409's body reads the same on both backends.
_SUBJECT_TAKEN = "another user of this tenant has this subject"
_EMAIL_TAKEN = "another user of this tenant has this email"


class InMemoryUsers:
    """Users; subject and email are unique per tenant, over staged and committed rows alike."""

    _UNIQUE: Sequence[tuple[str, Callable[[User], object], str]] = (
        ("subject", lambda user: user.subject, _SUBJECT_TAKEN),
        ("email", lambda user: user.email, _EMAIL_TAKEN),
    )

    def __init__(self, rows: ChainMap[Key, User], tenants: ChainMap[UUID, Tenant]) -> None:
        self._rows = rows
        self._tenants = tenants

    def _of(self, tenant_id: UUID) -> list[User]:
        return [user for user in self._rows.values() if user.tenant_id == tenant_id]

    async def add(self, user: User) -> None:
        key = (user.tenant_id, user.id)
        if key in self._rows:  # PgUsers maps the primary key's violation to Conflict("id")
            raise Conflict("id", "already exists")
        check_unique(self._of(user.tenant_id), self._UNIQUE, user)
        if user.tenant_id not in self._tenants:  # PgUsers maps the foreign key's violation
            raise TenantNotFound(user.tenant_id)
        self._rows[key] = user

    async def get(
        self, tenant_id: UUID, user_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> User | None:
        return self._rows.get((tenant_id, user_id))

    async def by_subject(self, tenant_id: UUID, subject: str) -> User | None:
        return next((user for user in self._of(tenant_id) if user.subject == subject), None)

    async def by_email(self, tenant_id: UUID, email: str) -> User | None:
        return next((user for user in self._of(tenant_id) if user.email == email), None)

    async def save(self, user: User) -> None:
        key = (user.tenant_id, user.id)
        if key not in self._rows:  # an UPDATE of a missing row changes nothing
            return
        check_unique(self._of(user.tenant_id), self._UNIQUE, user)
        self._rows[key] = user

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[User]:
        return page(self._of(tenant_id), _user_key, after, limit)

    async def active_owners(self, tenant_id: UUID) -> int:
        return sum(1 for u in self._of(tenant_id) if u.active and u.role is Role.OWNER)


def _user_key(user: User) -> PageKey:
    return (user.email, user.id)
