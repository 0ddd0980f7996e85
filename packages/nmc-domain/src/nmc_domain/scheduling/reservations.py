"""Finding free slots, holding one, booking the hold, canceling and moving appointments.

The functions taking a tenant id (`place_hold`, `book`, `release`) are the building blocks the
conversation context uses too; the ones taking a Principal are the tenant API's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.quotes import quote_for
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.availability import (
    Calendar,
    Slot,
    check_bookable,
    find_slots,
    is_free,
    local_day,
)
from nmc_domain.scheduling.booking import Booking, BookingStatus, new_hold
from nmc_domain.scheduling.errors import NotBookable, SlotTaken
from nmc_domain.scheduling.model import Technician
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.scheduling.settings import SETTING_RANGES
from nmc_domain.shared.errors import Conflict, InvalidInput, NotFound, TenantNotFound
from nmc_domain.shared.pages import Page, PageKey, check_limit, page_of
from nmc_domain.shared.phone import is_e164
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = [
    "MAX_OFFERS",
    "MAX_WINDOW",
    "Availability",
    "HoldRequest",
    "Scheduled",
    "available_slots",
    "book",
    "book_hold",
    "cancel_appointment",
    "hold_slot",
    "list_appointments",
    "load_calendar",
    "place_hold",
    "release",
    "release_hold",
    "reschedule_appointment",
    "search",
]

MAX_WINDOW = timedelta(days=62)
MAX_OFFERS = 100
# The calendar is read with this margin around the times in question, so the whole local day
# (daily limits count a technician's jobs that day) is seen in any zone: a day lasts up to 25
# hours when clocks fall back. Claims that start earlier and reach into the window are found by
# the read itself.
_MARGIN = timedelta(hours=26)
_FIRST_READ = timedelta(days=2)
# A job checked near the end of what was read still runs on, with its buffer after it: the
# read reaches that far past the last start in question (the buffer is known only once read).
_LONGEST_BUFFER = timedelta(minutes=SETTING_RANGES["buffer_minutes"][1])


@attrs.frozen
class Availability:
    """Free slots, and the zone their local times are in."""

    timezone: str
    slots: tuple[Slot, ...]


async def _tenant(uow: SchedulingUnitOfWork, tenant_id: UUID) -> Tenant:
    tenant = await uow.tenants.get(tenant_id)
    if tenant is None:
        raise TenantNotFound(tenant_id)
    return tenant


async def load_calendar(
    uow: SchedulingUnitOfWork,
    tenant: Tenant,
    start: datetime,
    end: datetime,
    technician_id: UUID | None = None,
    *,
    each_booking: bool = False,
) -> Calendar:
    """The tenant's schedule around [start, end) (one technician's, when given), as of the
    database's now.

    The read finds every claim overlapping the window by itself, and only the time the live
    bookings take (a full calendar holds thousands). A daily limit counts the jobs of whole
    local days around the window, so for tenants that set one the bookings are read again,
    one by one and wider; `each_booking` asks for them one by one anyway.
    """
    window = await uow.calendar.window(
        tenant.id, start, end, technician_id, merged=not each_booking
    )
    if window.settings.daily_limit_per_technician is not None:
        window = await uow.calendar.window(tenant.id, start - _MARGIN, end + _MARGIN, technician_id)
    return Calendar(
        timezone=tenant.timezone,
        settings=window.settings,
        hours=window.hours,
        technicians=window.technicians,
        closures=window.closures,
        busy=window.busy,
        bookings=window.bookings,
        taken=window.taken,
        now=await uow.now(),
    )


async def _item(uow: SchedulingUnitOfWork, tenant_id: UUID, item_id: UUID) -> ServiceItem:
    item = await uow.catalog.get(tenant_id, item_id)
    quote_for(item, item_id)  # NotFound, or Gone for an inactive item
    assert item is not None
    return item


async def available_slots(
    uow: SchedulingUnitOfWork,
    principal: Principal,
    *,
    item_id: UUID,
    start: datetime,
    end: datetime,
    limit: int,
    technician_id: UUID | None = None,
    spread_day: bool = False,
) -> Availability:
    """The earliest free starts for the item in [start, end] (any role)."""
    async with uow:
        await authorize(uow, principal)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("from", "needs a UTC offset")
        if end <= start:
            raise InvalidInput("to", "must be after from")
        if end - start > MAX_WINDOW:
            raise InvalidInput("to", f"the window may span at most {MAX_WINDOW.days} days")
        if not 1 <= limit <= MAX_OFFERS:
            raise InvalidInput("limit", f"must be between 1 and {MAX_OFFERS}")
        tenant = await _tenant(uow, principal.tenant_id)
        item = await _item(uow, tenant.id, item_id)
        slots = await search(
            uow,
            tenant,
            item,
            start=start,
            end=end,
            limit=limit,
            technician_id=technician_id,
            spread_day=spread_day,
        )
        return Availability(tenant.timezone, slots)


async def search(
    uow: SchedulingUnitOfWork,
    tenant: Tenant,
    item: ServiceItem,
    *,
    start: datetime,
    end: datetime,
    limit: int,
    technician_id: UUID | None = None,
    spread_day: bool = False,
    prefer: Callable[[Technician], str] | None = None,
    alternatives: bool = False,
) -> tuple[Slot, ...]:
    """The earliest free starts in [start, end], in this unit of work (see `find_slots` for
    `prefer` and `alternatives`; `limit` counts starts).

    Most searches fill up in the first days: a short stretch is read first, and only when it
    did not yield enough the next, four times longer, one after it (a calendar read is most of
    a search's cost, and no stretch is read or searched twice). A start at a stretch's end may
    be found again at the next one's beginning, and with `spread_day` the day a stretch ends in
    may be found again: one more slot is asked for than still needed, and repeats are dropped.
    """
    duration = timedelta(minutes=item.duration_minutes)
    zone = ZoneInfo(tenant.timezone)
    found: list[Slot] = []
    starts: set[datetime] = set()
    days: set[date] = set()
    low, reach = start, _FIRST_READ
    while True:
        until = min(end, low + reach)
        calendar = await load_calendar(uow, tenant, low, until + duration + _LONGEST_BUFFER)
        slots = find_slots(
            calendar,
            item_id=item.id,
            duration=duration,
            window_start=low,
            window_end=until,
            limit=limit - len(starts) + 1,
            technician_id=technician_id,
            spread_day=spread_day,
            prefer=prefer,
            alternatives=alternatives,
        )
        earlier_starts, earlier_days = set(starts), set(days)
        for slot in slots:
            day = local_day(slot.start, zone)
            if slot.start in earlier_starts or (spread_day and day in earlier_days):
                continue
            if slot.start not in starts:
                if len(starts) >= limit:
                    break
                starts.add(slot.start)
                days.add(day)
            found.append(slot)
        if len(starts) >= limit or until >= end or until >= calendar.latest:
            return tuple(found)
        low, reach = until, reach * 4


@attrs.frozen
class Scheduled:
    """A booking as the tenant API answers it: with the tenant's zone, and whether it is new."""

    booking: Booking
    timezone: str
    created: bool = True


@attrs.frozen
class HoldRequest:
    """Hold `start` with this technician for this item, for the contact at this number."""

    item_id: UUID
    technician_id: UUID
    start: datetime
    contact_phone: str
    conversation_id: UUID | None = None


async def place_hold(
    uow: SchedulingUnitOfWork, tenant: Tenant, request: HoldRequest, *, wait: bool = True
) -> Booking:
    """Claim the time in this unit of work (not committed): NotBookable (422) for a time that
    can never be booked, SlotTaken (409) for one that is taken. Without `wait`, a technician
    whose time someone else is claiming at this moment counts as taken too: who holds several
    times in one unit of work never waits, so never deadlocks."""
    if not is_e164(request.contact_phone):
        raise InvalidInput("contact_phone", "expected an E.164 number like +14155550123")
    item = await _item(uow, tenant.id, request.item_id)
    technician = await uow.technicians.get(tenant.id, request.technician_id)
    if technician is None:
        raise NotFound("technician", request.technician_id)
    if not technician.can_do(item.id):
        reason = "is inactive" if not technician.active else "does not do this item"
        raise NotBookable(f"this technician {reason}", field="technician_id")
    duration = timedelta(minutes=item.duration_minutes)
    if not await uow.bookings.lock_technician(tenant.id, technician.id, wait=wait):
        raise SlotTaken()
    end = request.start + duration + _LONGEST_BUFFER
    calendar = await load_calendar(uow, tenant, request.start, end, technician.id)
    check_bookable(calendar, technician, request.start, duration)
    settings = calendar.settings
    buffer = timedelta(minutes=settings.buffer_minutes)
    if not is_free(calendar, technician, request.start, request.start + duration + buffer):
        raise SlotTaken()
    hold, events = new_hold(
        tenant_id=tenant.id,
        technician_id=technician.id,
        item_id=item.id,
        contact_phone=request.contact_phone,
        start=request.start,
        duration=duration,
        buffer=buffer,
        ttl=timedelta(minutes=settings.hold_ttl_minutes),
        now=calendar.now,
        conversation_id=request.conversation_id,
    )
    await uow.bookings.claim(hold)
    for event in events:
        await uow.outbox.add(event)
    return hold


async def hold_slot(
    uow: SchedulingUnitOfWork, principal: Principal, request: HoldRequest
) -> Scheduled:
    """POST /v1/holds (any role): emits appointment.held."""
    async with uow:
        await authorize(uow, principal)
        tenant = await _tenant(uow, principal.tenant_id)
        hold = await place_hold(uow, tenant, request)
        await uow.commit()
        return Scheduled(hold, tenant.timezone)


async def _locked(
    uow: SchedulingUnitOfWork, tenant_id: UUID, booking_id: UUID, what: str
) -> Booking:
    booking = await uow.bookings.get(tenant_id, booking_id, lock=RowLock.UPDATE)
    if booking is None:
        raise NotFound(what, booking_id)
    return booking


async def release(uow: SchedulingUnitOfWork, tenant_id: UUID, hold_id: UUID) -> Booking:
    """Let a hold go in this unit of work (not committed)."""
    hold = await _locked(uow, tenant_id, hold_id, "hold")
    released = hold.release()
    if released != hold:
        await uow.bookings.save(released)
    return released


async def release_hold(uow: SchedulingUnitOfWork, principal: Principal, hold_id: UUID) -> Booking:
    """DELETE /v1/holds/{id}: the time is free again (a booked hold: 409)."""
    async with uow:
        await authorize(uow, principal)
        released = await release(uow, principal.tenant_id, hold_id)
        await uow.commit()
        return released


async def book(
    uow: SchedulingUnitOfWork, tenant_id: UUID, hold_id: UUID, idempotency_key: str | None
) -> tuple[Booking, bool]:
    """Book a hold in this unit of work (not committed); True when it was booked now.

    The same key again gives the same appointment (False); a key used for another hold, or a
    hold booked under another key, is a Conflict; an expired hold is HoldExpired (410).
    """
    hold = await _locked(uow, tenant_id, hold_id, "hold")
    if idempotency_key is not None:
        earlier = await uow.bookings.by_idempotency_key(tenant_id, idempotency_key)
        if earlier is not None and earlier.id == hold.id:
            return earlier, False
        if earlier is not None:
            raise Conflict("Idempotency-Key", "this key was used to book another hold")
    item = await uow.catalog.get(tenant_id, hold.item_id)
    if item is None:  # pragma: no cover - the foreign key keeps the item while holds refer to it
        raise NotFound("catalog item", hold.item_id)
    booked, events = hold.book(
        price_cents=item.price_cents,
        currency=item.currency,
        idempotency_key=idempotency_key,
        now=await uow.now(),
    )
    await uow.bookings.save(booked)
    for event in events:
        await uow.outbox.add(event)
    return booked, True


async def book_hold(
    uow: SchedulingUnitOfWork, principal: Principal, hold_id: UUID, idempotency_key: str | None
) -> Scheduled:
    """POST /v1/appointments (any role): emits appointment.booked once per appointment."""
    async with uow:
        await authorize(uow, principal)
        tenant = await _tenant(uow, principal.tenant_id)
        booked, created = await book(uow, tenant.id, hold_id, idempotency_key)
        if created:
            await uow.commit()
        return Scheduled(booked, tenant.timezone, created)


async def cancel_appointment(
    uow: SchedulingUnitOfWork, principal: Principal, appointment_id: UUID
) -> Scheduled:
    """Free the appointment's time (any role); emits appointment.canceled the first time."""
    async with uow:
        await authorize(uow, principal)
        tenant = await _tenant(uow, principal.tenant_id)
        appointment = await _locked(uow, tenant.id, appointment_id, "appointment")
        if appointment.status is BookingStatus.HELD:
            raise NotFound("appointment", appointment_id)
        canceled, events = appointment.cancel()
        if events:
            await uow.bookings.save(canceled)
            for event in events:
                await uow.outbox.add(event)
            await uow.commit()
        return Scheduled(canceled, tenant.timezone, bool(events))


async def reschedule_appointment(
    uow: SchedulingUnitOfWork,
    principal: Principal,
    appointment_id: UUID,
    *,
    technician_id: UUID,
    start: datetime,
) -> Scheduled:
    """Move an appointment atomically: the new time is claimed in the same transaction that
    frees the old one, so either both happen or neither (409 when the new time is taken)."""
    async with uow:
        await authorize(uow, principal)
        tenant = await _tenant(uow, principal.tenant_id)
        appointment = await _locked(uow, tenant.id, appointment_id, "appointment")
        if appointment.status is not BookingStatus.BOOKED:
            raise Conflict("id", f"a {appointment.status.value} booking cannot be rescheduled")
        technician = await uow.technicians.get(tenant.id, technician_id)
        if technician is None:
            raise NotFound("technician", technician_id)
        item = await uow.catalog.get(tenant.id, appointment.item_id)
        assert item is not None  # the foreign key keeps it
        if not technician.can_do(item.id):
            raise NotBookable("this technician does not do this item", field="technician_id")
        # Both technicians, in one order: two moves in opposite directions cannot deadlock.
        for locked in sorted({appointment.technician_id, technician.id}, key=str):
            await uow.bookings.lock_technician(tenant.id, locked)
        duration = appointment.end - appointment.start
        end = start + duration + _LONGEST_BUFFER
        # One by one: the appointment's own time is left out.
        calendar = await load_calendar(uow, tenant, start, end, technician.id, each_booking=True)
        check_bookable(calendar, technician, start, duration)
        buffer = timedelta(minutes=calendar.settings.buffer_minutes)
        if not is_free(
            calendar, technician, start, start + duration + buffer, ignore=appointment.id
        ):
            raise SlotTaken()
        moved, events = appointment.moved(
            technician_id=technician.id, start=start, duration=duration, buffer=buffer
        )
        if events:
            await uow.bookings.move(moved)
            for event in events:
                await uow.outbox.add(event)
            await uow.commit()
        return Scheduled(moved, tenant.timezone, bool(events))


async def list_appointments(
    uow: SchedulingUnitOfWork,
    principal: Principal,
    *,
    start: datetime,
    end: datetime,
    technician_id: UUID | None,
    after: PageKey | None,
    limit: int,
) -> tuple[str, Page[Booking]]:
    """Appointments starting in [start, end), by start time (any role); with the tenant's zone."""
    async with uow:
        await authorize(uow, principal)
        limit = check_limit(limit)
        if end <= start:
            raise InvalidInput("to", "must be after from")
        tenant = await _tenant(uow, principal.tenant_id)
        rows = await uow.bookings.appointments(
            tenant.id, start, end, technician_id, after, limit + 1
        )
        return tenant.timezone, page_of(rows, limit, _appointment_key)


def _appointment_key(booking: Booking) -> PageKey:
    return (booking.start.isoformat(), booking.id)


def technicians_for(calendar: Calendar, item_id: UUID) -> Sequence[Technician]:
    """The technicians who can do the item (for offers)."""
    return [technician for technician in calendar.technicians if technician.can_do(item_id)]
