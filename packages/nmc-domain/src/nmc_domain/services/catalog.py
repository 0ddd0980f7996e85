"""The service catalog through the tenant API: list, create, change, match, quote."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

from nmc_domain.errors import NotFound
from nmc_domain.events import CatalogUpdated
from nmc_domain.model.catalog import ServiceItem, change_service_item, name_key, new_service_item
from nmc_domain.model.matching import Match, match_items
from nmc_domain.model.pages import Page, PageKey, check_limit, page_of
from nmc_domain.model.quotes import Quote, quote_for
from nmc_domain.model.users import Principal
from nmc_domain.ports import RowLock, UnitOfWork
from nmc_domain.services.access import authorize

__all__ = [
    "create_item",
    "get_item",
    "list_items",
    "match_catalog",
    "quote_item",
    "update_item",
]


def _key(item: ServiceItem) -> PageKey:
    return (name_key(item.name), item.id)


async def list_items(
    uow: UnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[ServiceItem]:
    """All items (active or not) by name."""
    async with uow:
        await authorize(uow, principal)  # who asks comes before what they ask
        limit = check_limit(limit)
        rows = await uow.catalog.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, _key)


async def get_item(uow: UnitOfWork, principal: Principal, item_id: UUID) -> ServiceItem:
    async with uow:
        await authorize(uow, principal)
        item = await uow.catalog.get(principal.tenant_id, item_id)
        if item is None:
            raise NotFound("catalog item", item_id)
        return item


async def create_item(
    uow: UnitOfWork, principal: Principal, fields: Mapping[str, object]
) -> ServiceItem:
    """A new item (OWNER); emits catalog.updated."""
    async with uow:
        await authorize(uow, principal, owner=True)
        item = new_service_item(tenant_id=principal.tenant_id, **fields)  # type: ignore[arg-type]
        await uow.catalog.add(item)
        await uow.outbox.add(CatalogUpdated(principal.tenant_id, item.id, "created"))
        await uow.commit()
        return item


async def update_item(
    uow: UnitOfWork, principal: Principal, item_id: UUID, changes: Mapping[str, object]
) -> ServiceItem:
    """Change some fields (OWNER); deactivate with active=False. Emits catalog.updated."""
    async with uow:
        await authorize(uow, principal, owner=True)
        item = await uow.catalog.get(principal.tenant_id, item_id, lock=RowLock.UPDATE)
        if item is None:
            raise NotFound("catalog item", item_id)
        changed = change_service_item(item, **changes)
        if changed != item:
            await uow.catalog.save(changed)
            await uow.outbox.add(CatalogUpdated(principal.tenant_id, item.id, "updated"))
            await uow.commit()
        return changed


async def match_catalog(uow: UnitOfWork, principal: Principal, text: str) -> list[Match]:
    """The active items the text mentions, best first."""
    async with uow:
        await authorize(uow, principal)
        items = await uow.catalog.active(principal.tenant_id)
    return match_items(text, items)


async def quote_item(uow: UnitOfWork, principal: Principal, item_id: UUID) -> tuple[UUID, Quote]:
    """Snapshot the item's price now; a booking records this quote, not the live price."""
    async with uow:
        await authorize(uow, principal)
        item = await uow.catalog.get(principal.tenant_id, item_id)
        quote = quote_for(item, item_id)
        quote_id = uuid.uuid4()
        await uow.quotes.add(principal.tenant_id, quote_id, quote)
        await uow.commit()
        return quote_id, quote
