"""Catalog items and quotes in memory, with PgCatalog's and PgQuotes' semantics."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Sequence
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_adapters.memory.tables import Key, check_unique, page
from nmc_domain.catalog.model import ServiceItem, name_key
from nmc_domain.catalog.quotes import Quote
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["InMemoryCatalog", "InMemoryQuotes"]

_NAME_TAKEN = "another catalog item has this name"


def _item_key(item: ServiceItem) -> PageKey:
    return (name_key(item.name), item.id)


class InMemoryCatalog:
    """Service items; two items of a tenant may not share a `name_key`."""

    _UNIQUE: Sequence[tuple[str, Callable[[ServiceItem], object], str]] = (
        ("name", lambda item: name_key(item.name), _NAME_TAKEN),
    )

    def __init__(self, rows: ChainMap[Key, ServiceItem], tenants: ChainMap[UUID, Tenant]) -> None:
        self._rows = rows
        self._tenants = tenants

    def _of(self, tenant_id: UUID) -> list[ServiceItem]:
        return [item for item in self._rows.values() if item.tenant_id == tenant_id]

    async def add(self, item: ServiceItem) -> None:
        key = (item.tenant_id, item.id)
        if key in self._rows:
            raise Conflict("id", "already exists")
        check_unique(self._of(item.tenant_id), self._UNIQUE, item)
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
        check_unique(self._of(item.tenant_id), self._UNIQUE, item)
        self._rows[key] = item

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[ServiceItem]:
        return page(self._of(tenant_id), _item_key, after, limit)

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
