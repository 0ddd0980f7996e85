"""/v1/catalog and /v1/quotes: the service catalog, matching free text, and price quotes."""

from __future__ import annotations

from uuid import UUID

from litestar import get, patch, post
from litestar.params import FromPath, JSONBody

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.fields import Cursor, Limit, MatchText
from nmc_api.v1.problems import errors
from nmc_api.v1.schemas import (
    ItemIn,
    ItemList,
    ItemOut,
    ItemPatch,
    MatchList,
    MatchOut,
    QuoteIn,
    QuoteOut,
    decode_cursor,
    encode_cursor,
    strictly,
)
from nmc_domain.catalog.use_cases import (
    NewItem,
    create_item,
    get_item,
    list_items,
    match_catalog,
    quote_item,
    update_item,
)
from nmc_domain.shared.pages import DEFAULT_LIMIT

__all__ = ["catalog_routes"]


@get("/catalog/items", responses=errors(403), summary="Catalog items by name")
async def get_items(
    principal: Caller,
    deps: Deps,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ItemList:
    page = await list_items(deps.new_uow(), principal, decode_cursor(cursor), limit)
    return ItemList([ItemOut.of(i) for i in page.items], encode_cursor(page.next_after))


@post(
    "/catalog/items",
    opt=OWNER,
    responses=errors(403, 409, 413),
    summary="Add a catalog item (OWNER)",
)
async def post_item(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[ItemIn]
) -> ItemOut:
    data = await strictly(request, ItemIn)
    form = NewItem(
        name=data.name,
        price_cents=data.price_cents,
        duration_minutes=data.duration_minutes,
        aliases=tuple(data.aliases),
        currency=data.currency,
        priority=data.priority,
        active=data.active,
    )
    return ItemOut.of(await create_item(deps.new_uow(), principal, form))


@get("/catalog/items/{item_id:uuid}", responses=errors(403, 404), summary="One catalog item")
async def get_one_item(principal: Caller, deps: Deps, item_id: FromPath[UUID]) -> ItemOut:
    return ItemOut.of(await get_item(deps.new_uow(), principal, item_id))


@patch(
    "/catalog/items/{item_id:uuid}",
    opt=OWNER,
    responses=errors(403, 404, 409, 413),
    summary='Change a catalog item (OWNER); {"active": false} deactivates it',
)
async def patch_item(
    request: AnyRequest,
    principal: Caller,
    deps: Deps,
    item_id: FromPath[UUID],
    data: JSONBody[ItemPatch],
) -> ItemOut:
    data = await strictly(request, ItemPatch)
    return ItemOut.of(await update_item(deps.new_uow(), principal, item_id, data.changes()))


@get("/catalog/match", responses=errors(403), summary="Active items the text mentions, best first")
async def get_match(principal: Caller, deps: Deps, q: MatchText) -> MatchList:
    matches = await match_catalog(deps.new_uow(), principal, q)
    return MatchList([MatchOut(item=ItemOut.of(m.item), matched=m.matched) for m in matches])


@post("/quotes", responses=errors(403, 404, 410, 413), summary="Quote an item: a price snapshot")
async def post_quote(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[QuoteIn]
) -> QuoteOut:
    data = await strictly(request, QuoteIn)
    quote_id, quote = await quote_item(deps.new_uow(), principal, data.item_id)
    return QuoteOut(
        item_id=quote.item_id,
        price_cents=quote.price_cents,
        currency=quote.currency,
        duration_minutes=quote.duration_minutes,
        quote_id=quote_id,
    )


catalog_routes = [get_items, post_item, get_one_item, patch_item, get_match, post_quote]
