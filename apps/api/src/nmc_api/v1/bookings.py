"""/v1 availability, holds and appointments (any role).

A hold claims a slot for a while; booking it (with an Idempotency-Key, so a retried request
books once) snapshots the price; canceling frees the time, rescheduling moves it atomically.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Response, delete, get, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.auth import Caller
from nmc_api.v1.fields import Cursor, Limit
from nmc_api.v1.problems import errors
from nmc_api.v1.scheduling_schemas import (
    AppointmentIn,
    AppointmentList,
    AppointmentOut,
    HoldIn,
    HoldOut,
    RescheduleIn,
    SlotList,
    SlotOut,
    local,
)
from nmc_api.v1.schemas import decode_cursor, encode_cursor, strictly
from nmc_domain.scheduling.reservations import (
    MAX_OFFERS,
    HoldRequest,
    available_slots,
    book_hold,
    cancel_appointment,
    hold_slot,
    list_appointments,
    release_hold,
    reschedule_appointment,
)
from nmc_domain.shared.pages import DEFAULT_LIMIT

__all__ = ["booking_routes"]

From = Annotated[datetime, QueryParameter(name="from", description="RFC 3339, with an offset")]
To = Annotated[datetime, QueryParameter(name="to", description="RFC 3339, with an offset")]
Offers = Annotated[int, QueryParameter(ge=1, le=MAX_OFFERS, description="How many slots at most")]
Spread = Annotated[
    Literal["day"] | None, QueryParameter(description="`day`: at most one slot per local day")
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7E]+\Z",
        schema_extra={"pattern": r"^[\x21-\x7E]+$"},
        description="The same key again gives the same appointment (200) and books once",
    ),
]


@get(
    "/availability",
    responses=errors(403, 404, 410),
    summary="Free slots for a catalog item: the earliest first, each start once",
)
async def get_availability(
    principal: Caller,
    deps: Deps,
    item_id: FromQuery[UUID],
    start: From,
    end: To,
    limit: Offers = 3,
    technician_id: FromQuery[UUID | None] = None,
    spread: Spread = None,
) -> SlotList:
    found = await available_slots(
        deps.new_uow(),
        principal,
        item_id=item_id,
        start=start,
        end=end,
        limit=limit,
        technician_id=technician_id,
        spread_day=spread == "day",
    )
    zone = ZoneInfo(found.timezone)
    return SlotList(
        [SlotOut(s.technician_id, local(s.start, zone), local(s.end, zone)) for s in found.slots]
    )


@post(
    "/holds",
    status_code=201,
    responses=errors(403, 404, 409, 410, 413),
    summary="Hold a slot for a contact (taken: 409; never bookable: 422 with the reason)",
)
async def post_hold(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[HoldIn]
) -> HoldOut:
    data = await strictly(request, HoldIn)
    held = await hold_slot(
        deps.new_uow(),
        principal,
        HoldRequest(data.item_id, data.technician_id, data.start, data.contact_phone),
    )
    return HoldOut.of(held.booking, ZoneInfo(held.timezone))


@delete(
    "/holds/{hold_id:uuid}",
    status_code=204,
    responses=errors(403, 404, 409),
    summary="Release a hold (a booked one: 409)",
)
async def delete_hold(principal: Caller, deps: Deps, hold_id: FromPath[UUID]) -> None:
    await release_hold(deps.new_uow(), principal, hold_id)


@post(
    "/appointments",
    status_code=201,
    responses=errors(403, 404, 409, 410, 413),
    summary="Book a hold: 201 new, 200 for the same Idempotency-Key again; expired hold: 410",
)
async def post_appointment(
    request: AnyRequest,
    principal: Caller,
    deps: Deps,
    data: JSONBody[AppointmentIn],
    idempotency_key: IdempotencyKey = None,
) -> Response[AppointmentOut]:
    data = await strictly(request, AppointmentIn)
    booked = await book_hold(deps.new_uow(), principal, data.hold_id, idempotency_key)
    body = AppointmentOut.of(booked.booking, ZoneInfo(booked.timezone))
    return Response(body, status_code=201 if booked.created else 200)


@get("/appointments", responses=errors(403), summary="Appointments starting in [from, to)")
async def get_appointments(
    principal: Caller,
    deps: Deps,
    start: From,
    end: To,
    technician_id: FromQuery[UUID | None] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AppointmentList:
    timezone, page = await list_appointments(
        deps.new_uow(),
        principal,
        start=start,
        end=end,
        technician_id=technician_id,
        after=decode_cursor(cursor),
        limit=limit,
    )
    zone = ZoneInfo(timezone)
    return AppointmentList(
        [AppointmentOut.of(b, zone) for b in page.items], encode_cursor(page.next_after)
    )


@post(
    "/appointments/{appointment_id:uuid}/cancel",
    status_code=200,
    responses=errors(403, 404, 409),
    summary="Cancel an appointment: its time is free again",
)
async def post_cancel(
    principal: Caller, deps: Deps, appointment_id: FromPath[UUID]
) -> AppointmentOut:
    canceled = await cancel_appointment(deps.new_uow(), principal, appointment_id)
    return AppointmentOut.of(canceled.booking, ZoneInfo(canceled.timezone))


@post(
    "/appointments/{appointment_id:uuid}/reschedule",
    status_code=200,
    responses=errors(403, 404, 409, 413),
    summary="Move an appointment atomically (the new time taken: 409, the old one kept)",
)
async def post_reschedule(
    request: AnyRequest,
    principal: Caller,
    deps: Deps,
    appointment_id: FromPath[UUID],
    data: JSONBody[RescheduleIn],
) -> AppointmentOut:
    data = await strictly(request, RescheduleIn)
    moved = await reschedule_appointment(
        deps.new_uow(),
        principal,
        appointment_id,
        technician_id=data.technician_id,
        start=data.start,
    )
    return AppointmentOut.of(moved.booking, ZoneInfo(moved.timezone))


booking_routes = [
    get_availability,
    post_hold,
    delete_hold,
    post_appointment,
    get_appointments,
    post_cancel,
    post_reschedule,
]
