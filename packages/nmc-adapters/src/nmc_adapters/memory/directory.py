"""In-memory repositories of the tenant API: users, catalog items, quotes (PgUsers' semantics)."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from uuid import UUID

from nmc_adapters.memory.repositories import Tenants, require_tenant
from nmc_domain.errors import Conflict
from nmc_domain.model.catalog import ServiceItem, name_key
from nmc_domain.model.pages import PageKey
from nmc_domain.model.quotes import Quote
from nmc_domain.model.users import Role, User
from nmc_domain.ports import RowLock

__all__ = ["InMemoryCatalog", "InMemoryQuotes", "InMemoryUsers"]

T = TypeVar("T", User, ServiceItem)
Key = tuple[UUID, UUID]  # (tenant_id, id): the tables' primary keys

# The reasons PgUsers and PgCatalog give, so a 409's body reads the same on both backends.
_SUBJECT_TAKEN = "another user of this tenant has this subject"
_EMAIL_TAKEN = "another user of this tenant has this email"
_NAME_TAKEN = "another catalog item has this name"


def _page(
    rows: Iterable[T], sort: Callable[[T], PageKey], after: PageKey | None, limit: int
) -> list[T]:
    """Up to `limit` rows strictly after `after`, ordered by `sort` (the key ends with the id)."""
    ordered = sorted(rows, key=sort)
    if after is not None:
        ordered = [row for row in ordered if sort(row) > after]
    return ordered[: max(limit, 0)]


def _check_unique(
    others: Iterable[T], checks: Sequence[tuple[str, Callable[[T], object], str]], row: T
) -> None:
    """Conflict on the first unique column `row` shares with another row (in PostgreSQL's
    order: constraints are checked in the order the indexes were created)."""
    others = [other for other in others if other.id != row.id]
    for field, value, reason in checks:
        if any(value(other) == value(row) for other in others):
            raise Conflict(field, reason)


class InMemoryUsers:
    """Users; subject and email are unique per tenant, over staged and committed rows alike."""

    _UNIQUE: Sequence[tuple[str, Callable[[User], object], str]] = (
        ("subject", lambda user: user.subject, _SUBJECT_TAKEN),
        ("email", lambda user: user.email, _EMAIL_TAKEN),
    )

    def __init__(self, rows: ChainMap[Key, User], tenants: Tenants) -> None:
        self._rows = rows
        self._tenants = tenants

    def _of(self, tenant_id: UUID) -> list[User]:
        return [user for user in self._rows.values() if user.tenant_id == tenant_id]

    async def add(self, user: User) -> None:
        key = (user.tenant_id, user.id)
        if key in self._rows:  # PgUsers maps the primary key's violation to Conflict("id")
            raise Conflict("id", "already exists")
        _check_unique(self._of(user.tenant_id), self._UNIQUE, user)
        require_tenant(self._tenants, user.tenant_id)
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
        _check_unique(self._of(user.tenant_id), self._UNIQUE, user)
        self._rows[key] = user

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[User]:
        return _page(self._of(tenant_id), _user_key, after, limit)

    async def active_owners(self, tenant_id: UUID) -> int:
        return sum(1 for u in self._of(tenant_id) if u.active and u.role is Role.OWNER)


def _user_key(user: User) -> PageKey:
    return (user.email, user.id)


def _item_key(item: ServiceItem) -> PageKey:
    return (name_key(item.name), item.id)


class InMemoryCatalog:
    """Service items; two items of a tenant may not share a `name_key`."""

    _UNIQUE: Sequence[tuple[str, Callable[[ServiceItem], object], str]] = (
        ("name", lambda item: name_key(item.name), _NAME_TAKEN),
    )

    def __init__(self, rows: ChainMap[Key, ServiceItem], tenants: Tenants) -> None:
        self._rows = rows
        self._tenants = tenants

    def _of(self, tenant_id: UUID) -> list[ServiceItem]:
        return [item for item in self._rows.values() if item.tenant_id == tenant_id]

    async def add(self, item: ServiceItem) -> None:
        key = (item.tenant_id, item.id)
        if key in self._rows:
            raise Conflict("id", "already exists")
        _check_unique(self._of(item.tenant_id), self._UNIQUE, item)
        require_tenant(self._tenants, item.tenant_id)
        self._rows[key] = item

    async def get(
        self, tenant_id: UUID, item_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> ServiceItem | None:
        return self._rows.get((tenant_id, item_id))

    async def save(self, item: ServiceItem) -> None:
        key = (item.tenant_id, item.id)
        if key not in self._rows:
            return
        _check_unique(self._of(item.tenant_id), self._UNIQUE, item)
        self._rows[key] = item

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[ServiceItem]:
        return _page(self._of(tenant_id), _item_key, after, limit)

    async def active(self, tenant_id: UUID) -> Sequence[ServiceItem]:
        return sorted((item for item in self._of(tenant_id) if item.active), key=_item_key)


class InMemoryQuotes:
    """Quotes by (tenant, id): snapshots written once, of an item of the same tenant."""

    def __init__(self, rows: ChainMap[Key, Quote], items: ChainMap[Key, ServiceItem]) -> None:
        self._rows = rows
        self._items = items

    async def add(self, tenant_id: UUID, quote_id: UUID, quote: Quote) -> None:
        # PgQuotes' insert is pipelined, so there these two surface at commit, not here.
        if (tenant_id, quote.item_id) not in self._items:
            raise ValueError(f"no catalog item {quote.item_id} (foreign key violation)")
        if (tenant_id, quote_id) in self._rows:
            raise ValueError(f"quote {quote_id} exists (primary key violation)")
        self._rows[tenant_id, quote_id] = quote
