"""Catalog & hours (OWNER): the services (add, edit), the weekly hours, closed dates, and
the text-back and after-hours templates (catalog_texts.py) with a live preview.

Every save is a plain form post: 303 back to the page (`?saved=...#section`), or the page
again with what was typed and the reason next to the field (422; 409 for a duplicate name or
date; nothing stored).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from litestar import MediaType, Response, get, post
from litestar.params import FromPath, QueryParameter

from nmc_api.deps import AnyRequest, Deps
from nmc_api.web.catalog_forms import (
    ItemForm,
    field_message,
    hours_fault,
    item_values,
    parse_hours,
    parse_item,
)
from nmc_api.web.catalog_page import NO_ITEM, NOTICES, catalog_page, form_of, saved
from nmc_api.web.catalog_texts import template_pages
from nmc_api.web.chrome import page
from nmc_api.web.session import Viewer, Viewing
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.use_cases import NewItem, create_item, get_item, update_item
from nmc_domain.scheduling.setup import (
    add_closure,
    delete_closure,
    set_business_hours,
)
from nmc_domain.shared.errors import Conflict, InvalidInput, NotFound

__all__ = ["catalog_pages"]

SavedParam = Annotated[str | None, QueryParameter(name="saved")]


@get("/catalog", media_type=MediaType.HTML)
async def catalog(deps: Deps, viewer: Viewing, done: SavedParam = None) -> Response[Any]:
    """The page; after a save (`?saved=what`), a word on what was saved."""
    viewer.require_owner()
    return await catalog_page(deps, viewer, notice=NOTICES.get(done or ""))


def _item_fault(exc: InvalidInput | Conflict) -> dict[str, str]:
    return {ItemForm.field_of(exc.field): ItemForm.reason_of(exc.field, exc.reason)}


@post("/catalog/items", media_type=MediaType.HTML)
async def add_item(request: AnyRequest, deps: Deps, viewer: Viewing) -> Response[Any]:
    """A new service: 303, or the page with the form as typed and the field at fault."""
    viewer.require_owner()
    values = await form_of(request)
    form = parse_item(values)
    errors, status = dict(form.errors), 422
    if not errors:
        f: dict[str, Any] = form.fields
        new = NewItem(
            name=f["name"],
            price_cents=f["price_cents"],
            duration_minutes=f["duration_minutes"],
            aliases=tuple(f["aliases"]),
            priority=f["priority"],
            active=f["active"],
        )
        try:
            await create_item(deps.new_uow(), viewer.principal, new)
        except (InvalidInput, Conflict) as exc:
            errors, status = _item_fault(exc), 409 if isinstance(exc, Conflict) else 422
        else:
            return saved("item", "services")
    return await catalog_page(
        deps, viewer, status_code=status, item_form=values, errors=errors, adding=True
    )


async def _item_page(
    deps: Deps,
    viewer: Viewer,
    item: ServiceItem,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response[Any]:
    return await page(
        deps,
        viewer,
        "catalog_item.html",
        status_code=status_code,
        item=item,
        item_form=values if values is not None else item_values(item),
        errors=errors or {},
    )


@get("/catalog/items/{item_id:uuid}", media_type=MediaType.HTML)
async def edit_item(deps: Deps, viewer: Viewing, item_id: FromPath[UUID]) -> Response[Any]:
    """The item's form (404 page when the business has no such item)."""
    viewer.require_owner()
    try:
        item = await get_item(deps.new_uow(), viewer.principal, item_id)
    except NotFound:
        return await catalog_page(deps, viewer, status_code=404, error=NO_ITEM)
    return await _item_page(deps, viewer, item)


@post("/catalog/items/{item_id:uuid}", media_type=MediaType.HTML)
async def save_item(
    request: AnyRequest, deps: Deps, viewer: Viewing, item_id: FromPath[UUID]
) -> Response[Any]:
    """Save the item's form: 303 to the catalog, or the form again with the reason."""
    viewer.require_owner()
    values = await form_of(request)
    form = parse_item(values)
    try:
        item = await get_item(deps.new_uow(), viewer.principal, item_id)
    except NotFound:
        return await catalog_page(deps, viewer, status_code=404, error=NO_ITEM)
    errors, status = dict(form.errors), 422
    if not errors:
        try:
            await update_item(deps.new_uow(), viewer.principal, item_id, form.fields)
        except (InvalidInput, Conflict) as exc:
            errors, status = _item_fault(exc), 409 if isinstance(exc, Conflict) else 422
        except NotFound:  # gone meanwhile
            return await catalog_page(deps, viewer, status_code=404, error=NO_ITEM)
        else:
            return saved("item", "services")
    return await _item_page(deps, viewer, item, values, errors, status)


@post("/catalog/hours", media_type=MediaType.HTML)
async def save_hours(request: AnyRequest, deps: Deps, viewer: Viewing) -> Response[Any]:
    """Replace the weekly hours: 303, or the rows as typed with the one at fault (422)."""
    viewer.require_owner()
    rows, periods, keys, errors = parse_hours(await form_of(request))
    if not errors:
        try:
            await set_business_hours(deps.new_uow(), viewer.principal, periods)
        except InvalidInput as exc:
            errors = {hours_fault(exc.field, keys): field_message(exc.reason)}
        else:
            return saved("hours", "hours")
    return await catalog_page(deps, viewer, status_code=422, hours=rows, errors=errors)


@post("/catalog/closures", media_type=MediaType.HTML)
async def add_closure_form(request: AnyRequest, deps: Deps, viewer: Viewing) -> Response[Any]:
    """Close a date: 303, or the form with the reason (422; 409 when it is closed already)."""
    viewer.require_owner()
    values = await form_of(request)
    errors: dict[str, str] = {}
    status = 422
    try:
        day = date.fromisoformat(values.get("date", "").strip())
    except ValueError:
        errors["closure_date"] = "Give the date as YYYY-MM-DD"
    else:
        try:
            await add_closure(
                deps.new_uow(), viewer.principal, day=day, reason=values.get("reason", "")
            )
        except (InvalidInput, Conflict) as exc:
            status = 409 if isinstance(exc, Conflict) else 422
            field = "closure_date" if exc.field == "date" else "closure_reason"
            reason = "That date is closed already" if status == 409 else exc.reason
            errors[field] = field_message(reason)
        else:
            return saved("closure", "closures")
    return await catalog_page(deps, viewer, status_code=status, errors=errors, closure_form=values)


@post("/catalog/closures/{closure_id:uuid}/delete", media_type=MediaType.HTML)
async def remove_closure(deps: Deps, viewer: Viewing, closure_id: FromPath[UUID]) -> Response[Any]:
    """Open the date again: 303 (a closure gone already: the same, nothing to do)."""
    viewer.require_owner()
    # Removed meanwhile (another tab): the page shows it gone either way.
    with contextlib.suppress(NotFound):
        await delete_closure(deps.new_uow(), viewer.principal, closure_id)
    return saved("reopened", "closures")


catalog_pages = [
    catalog,
    add_item,
    edit_item,
    save_item,
    save_hours,
    add_closure_form,
    remove_closure,
    *template_pages,
]
