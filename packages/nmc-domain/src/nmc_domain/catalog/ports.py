"""Ports of the catalog: service items and the quotes taken from them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.quotes import Quote
from nmc_domain.identity.ports import IdentityUnitOfWork
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = ["CatalogRepository", "CatalogUnitOfWork", "QuoteRepository"]


class CatalogRepository(Protocol):
    """Service items of one tenant; a duplicate name (case-insensitive) raises Conflict."""

    async def add(self, item: ServiceItem) -> None: ...

    async def get(
        self, tenant_id: UUID, item_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> ServiceItem | None: ...

    async def save(self, item: ServiceItem) -> None: ...

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[ServiceItem]:
        """Up to `limit` items after the key, ordered by (name_key, id)."""
        ...

    async def active(self, tenant_id: UUID) -> Sequence[ServiceItem]:
        """Every active item (what matching searches)."""
        ...


class QuoteRepository(Protocol):
    """Price snapshots; a booking records the quote, not the live price."""

    async def add(self, tenant_id: UUID, quote_id: UUID, quote: Quote) -> None: ...


class CatalogUnitOfWork(IdentityUnitOfWork, Protocol):
    """A unit of work that knows the catalog and its quotes."""

    catalog: CatalogRepository
    quotes: QuoteRepository
