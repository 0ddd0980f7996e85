"""/v1 scheduling setup: technicians, business hours, closures, busy blocks (the settings
page is in conversations.py: it spans several contexts).

Any role reads; the OWNER writes.
"""

from __future__ import annotations

from uuid import UUID

from litestar import delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from msgspec import UNSET

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.fields import Cursor, Limit
from nmc_api.v1.problems import errors
from nmc_api.v1.scheduling_schemas import (
    BusyBlockIn,
    BusyBlockList,
    BusyBlockOut,
    ClosureIn,
    ClosureList,
    ClosureOut,
    HoursIO,
    TechnicianIn,
    TechnicianList,
    TechnicianOut,
    TechnicianPatch,
)
from nmc_api.v1.schemas import decode_cursor, encode_cursor, strictly
from nmc_domain.scheduling.setup import (
    TechnicianChanges,
    add_busy_block,
    add_closure,
    add_technician,
    change_technician,
    delete_busy_block,
    delete_closure,
    get_business_hours,
    list_busy_blocks,
    list_closures,
    list_technicians,
    set_business_hours,
)
from nmc_domain.shared.pages import DEFAULT_LIMIT

__all__ = ["setup_routes"]


@get("/technicians", responses=errors(403), summary="Technicians by name")
async def get_technicians(
    principal: Caller, deps: Deps, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> TechnicianList:
    page = await list_technicians(deps.new_uow(), principal, decode_cursor(cursor), limit)
    return TechnicianList([TechnicianOut.of(t) for t in page.items], encode_cursor(page.next_after))


@post(
    "/technicians",
    opt=OWNER,
    responses=errors(403, 409, 413),
    summary="Add a technician (OWNER); 409 when another technician has the email",
)
async def post_technician(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[TechnicianIn]
) -> TechnicianOut:
    data = await strictly(request, TechnicianIn)
    technician = await add_technician(
        deps.new_uow(), principal, name=data.name, item_ids=data.item_ids, email=data.email
    )
    return TechnicianOut.of(technician)


@patch(
    "/technicians/{technician_id:uuid}",
    opt=OWNER,
    responses=errors(403, 404, 409, 413),
    summary="Change a technician (OWNER): name, active, item_ids (null: all), hours (null: the "
    "tenant's), email (null: none)",
)
async def patch_technician(
    request: AnyRequest,
    principal: Caller,
    deps: Deps,
    technician_id: FromPath[UUID],
    data: JSONBody[TechnicianPatch],
) -> TechnicianOut:
    data = await strictly(request, TechnicianPatch)
    changes = TechnicianChanges(
        name=None if data.name is UNSET else data.name,
        active=None if data.active is UNSET else data.active,
        set_item_ids=data.item_ids is not UNSET,
        item_ids=None if data.item_ids is UNSET or data.item_ids is None else tuple(data.item_ids),
        set_hours=data.hours is not UNSET,
        hours=None if data.hours is UNSET or data.hours is None else data.hours.triples(),
        set_email=data.email is not UNSET,
        email=None if data.email is UNSET else data.email,
    )
    technician = await change_technician(deps.new_uow(), principal, technician_id, changes)
    return TechnicianOut.of(technician)


@get("/business-hours", responses=errors(403), summary="The weekly business hours (local times)")
async def get_hours(principal: Caller, deps: Deps) -> HoursIO:
    return HoursIO.of(await get_business_hours(deps.new_uow(), principal))


@put(
    "/business-hours",
    opt=OWNER,
    responses=errors(403, 413),
    summary="Replace the weekly hours (OWNER); overlapping or inverted periods are refused",
)
async def put_hours(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[HoursIO]
) -> HoursIO:
    data = await strictly(request, HoursIO)
    return HoursIO.of(await set_business_hours(deps.new_uow(), principal, data.triples()))


@get("/closures", responses=errors(403), summary="Dates the business is closed")
async def get_closures(
    principal: Caller, deps: Deps, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> ClosureList:
    page = await list_closures(deps.new_uow(), principal, decode_cursor(cursor), limit)
    return ClosureList([ClosureOut.of(c) for c in page.items], encode_cursor(page.next_after))


@post("/closures", opt=OWNER, responses=errors(403, 409, 413), summary="Close a date (OWNER)")
async def post_closure(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[ClosureIn]
) -> ClosureOut:
    data = await strictly(request, ClosureIn)
    closure = await add_closure(deps.new_uow(), principal, day=data.date, reason=data.reason)
    return ClosureOut.of(closure)


@delete(
    "/closures/{closure_id:uuid}",
    opt=OWNER,
    status_code=204,
    responses=errors(403, 404),
    summary="Reopen a closed date (OWNER)",
)
async def delete_closure_route(principal: Caller, deps: Deps, closure_id: FromPath[UUID]) -> None:
    await delete_closure(deps.new_uow(), principal, closure_id)


@get("/busy-blocks", responses=errors(403), summary="Busy blocks by start")
async def get_busy_blocks(
    principal: Caller, deps: Deps, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> BusyBlockList:
    page = await list_busy_blocks(deps.new_uow(), principal, decode_cursor(cursor), limit)
    return BusyBlockList([BusyBlockOut.of(b) for b in page.items], encode_cursor(page.next_after))


@post(
    "/busy-blocks",
    opt=OWNER,
    responses=errors(403, 409, 413),
    summary="Mark a technician busy (OWNER)",
)
async def post_busy_block(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[BusyBlockIn]
) -> BusyBlockOut:
    data = await strictly(request, BusyBlockIn)
    block = await add_busy_block(
        deps.new_uow(),
        principal,
        technician_id=data.technician_id,
        start=data.start,
        end=data.end,
    )
    return BusyBlockOut.of(block)


@delete(
    "/busy-blocks/{block_id:uuid}",
    opt=OWNER,
    status_code=204,
    responses=errors(403, 404),
    summary="Remove a busy block (OWNER)",
)
async def delete_busy_block_route(principal: Caller, deps: Deps, block_id: FromPath[UUID]) -> None:
    await delete_busy_block(deps.new_uow(), principal, block_id)


setup_routes = [
    get_technicians,
    post_technician,
    patch_technician,
    get_hours,
    put_hours,
    get_closures,
    post_closure,
    delete_closure_route,
    get_busy_blocks,
    post_busy_block,
    delete_busy_block_route,
]
