"""The service catalog through the tenant API: list, create, change, match, quote."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

import attrs

from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.catalog.matching import Match, match_items
from nmc_domain.catalog.model import (
    ServiceItem,
    change_service_item,
    name_key,
    new_service_item,
)
from nmc_domain.catalog.ports import CatalogUnitOfWork
from nmc_domain.catalog.quotes import Quote, quote_for
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import NotFound
from nmc_domain.shared.pages import Page, PageKey, check_limit, page_of
from nmc_domain.shared.ports import RowLock

__all__ = [
    "NewItem",
    "create_item",
    "get_item",
    "list_items",
    "match_catalog",
    "quote_item",
    "update_item",
]


@attrs.frozen
class NewItem:
    """The form for a new catalog item, as the owner filled it in (checked by the domain)."""

    name: str
    price_cents: int
    duration_minutes: int
    aliases: tuple[str, ...] = ()
    currency: str = "USD"
    priority: int = 0
    active: bool = True


def _key(item: ServiceItem) -> PageKey:
    return (name_key(item.name), item.id)


async def list_items(
    uow: CatalogUnitOfWork, principal: Principal, after: PageKey | None, limit: int
) -> Page[ServiceItem]:
    """All items (active or not) by name."""
    async with uow:
        await authorize(uow, principal)  # who asks comes before what they ask
        limit = check_limit(limit)
        rows = await uow.catalog.page(principal.tenant_id, after, limit + 1)
        return page_of(rows, limit, _key)


async def get_item(uow: CatalogUnitOfWork, principal: Principal, item_id: UUID) -> ServiceItem:
    async with uow:
        await authorize(uow, principal)
        item = await uow.catalog.get(principal.tenant_id, item_id)
        if item is None:
            raise NotFound("catalog item", item_id)
        return item


async def create_item(uow: CatalogUnitOfWork, principal: Principal, form: NewItem) -> ServiceItem:
    """A new item (OWNER); emits catalog.updated."""
    async with uow:
        await authorize(uow, principal, owner=True)
        item = new_service_item(
            tenant_id=principal.tenant_id,
            name=form.name,
            price_cents=form.price_cents,
            duration_minutes=form.duration_minutes,
            aliases=form.aliases,
            currency=form.currency,
            priority=form.priority,
            active=form.active,
        )
        await uow.catalog.add(item)
        await uow.outbox.add(CatalogUpdated(principal.tenant_id, item.id, "created"))
        await uow.commit()
        return item


async def update_item(
    uow: CatalogUnitOfWork, principal: Principal, item_id: UUID, changes: Mapping[str, object]
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


async def match_catalog(uow: CatalogUnitOfWork, principal: Principal, text: str) -> list[Match]:
    """The active items the text mentions, best first."""
    async with uow:
        await authorize(uow, principal)
        items = await uow.catalog.active(principal.tenant_id)
    return match_items(text, items)


async def quote_item(
    uow: CatalogUnitOfWork, principal: Principal, item_id: UUID
) -> tuple[UUID, Quote]:
    """Snapshot the item's price now; a booking records this quote, not the live price."""
    async with uow:
        await authorize(uow, principal)
        item = await uow.catalog.get(principal.tenant_id, item_id)
        quote = quote_for(item, item_id)
        quote_id = uuid.uuid4()
        await uow.quotes.add(principal.tenant_id, quote_id, quote)
        await uow.commit()
        return quote_id, quote
