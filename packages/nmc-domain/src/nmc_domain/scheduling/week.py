"""A technician's week as people look at it (the inbox's schedule page): Monday to Sunday in
the tenant's zone, with its appointments (canceled ones too), live holds, busy blocks (and
where each came from), closed dates and the hours worked; and wall-clock times read in the
tenant's zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.catalog.model import ServiceItem
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.availability import period_bounds
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.model import BusyBlock, Period, Technician, Weekday, WeeklyHours
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.errors import InvalidInput, NotFound, TenantNotFound
from nmc_domain.shared.pages import MAX_LIMIT, PageKey

__all__ = ["MAX_WEEK_ENTRIES", "Week", "day_bounds", "technician_week", "wall_clock"]

# More than any one technician works in a week; past it the page says it shows only these.
MAX_WEEK_ENTRIES = 1000


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants a local day starts and ends (23 or 25 hours apart when clocks change)."""
    return period_bounds(day, Period(Weekday(day.weekday()), 0, 1440), zone)


def wall_clock(day: date, at: time, zone: ZoneInfo, field: str = "start") -> datetime:
    """The instant the tenant's clocks read `at` on `day` (the first time, when clocks fall
    back and the hour repeats); InvalidInput naming `field` for a time the clocks skip."""
    local = datetime.combine(day, at.replace(second=0, microsecond=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise InvalidInput(
            field, f"{at:%H:%M} does not exist on {day.isoformat()}: the clocks skip that hour"
        )
    return instant


@attrs.frozen
class Week:
    """One technician's week (`technician` None: the business has no technician yet)."""

    timezone: str
    first: date  # the Monday
    today: date
    technicians: tuple[Technician, ...]
    technician: Technician | None
    hours: WeeklyHours  # the technician's own, or the business's
    appointments: tuple[Booking, ...] = ()  # booked and canceled, starting in the week
    holds: tuple[Booking, ...] = ()  # live holds starting in the week
    busy: tuple[BusyBlock, ...] = ()  # overlapping the week, by start
    closures: frozenset[date] = frozenset()  # closed dates of the week
    items: Mapping[UUID, ServiceItem] = attrs.field(factory=dict)  # the items booked or held
    complete: bool = True  # False: more than MAX_WEEK_ENTRIES appointments, the first shown

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def days(self) -> tuple[date, ...]:
        return tuple(self.first + timedelta(days=i) for i in range(7))

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return day_bounds(self.first, self.zone)[0], day_bounds(self.days[-1], self.zone)[1]


async def _technicians(uow: SchedulingUnitOfWork, tenant_id: UUID) -> tuple[Technician, ...]:
    found: list[Technician] = []
    after: PageKey | None = None
    while len(found) < MAX_WEEK_ENTRIES:
        rows = await uow.technicians.page(tenant_id, after, MAX_LIMIT)
        found.extend(rows)
        if len(rows) < MAX_LIMIT:
            break
        after = (rows[-1].name, rows[-1].id)
    return tuple(found)


def _chosen(technicians: tuple[Technician, ...], wanted: UUID | None) -> Technician | None:
    if wanted is not None:
        for technician in technicians:
            if technician.id == wanted:
                return technician
        raise NotFound("technician", wanted)
    active = [t for t in technicians if t.active]
    return next(iter(active or technicians), None)


async def _appointments(
    uow: SchedulingUnitOfWork, tenant_id: UUID, technician_id: UUID, start: datetime, end: datetime
) -> tuple[list[Booking], bool]:
    found: list[Booking] = []
    after: PageKey | None = None
    while True:
        rows = await uow.bookings.appointments(
            tenant_id, start, end, technician_id, after, MAX_LIMIT
        )
        found.extend(rows)
        if len(rows) < MAX_LIMIT:
            return found, True
        if len(found) >= MAX_WEEK_ENTRIES:
            return found[:MAX_WEEK_ENTRIES], False
        after = (rows[-1].start.isoformat(), rows[-1].id)


async def technician_week(
    uow: SchedulingUnitOfWork,
    principal: Principal,
    *,
    technician_id: UUID | None = None,
    day: date | None = None,
) -> Week:
    """The week holding `day` (today in the tenant's zone by default) of the technician
    (the first active one by name by default); any role. NotFound for a technician the
    tenant does not have."""
    async with uow:
        await authorize(uow, principal)
        tenant = await uow.tenants.get(principal.tenant_id)
        if tenant is None:
            raise TenantNotFound(principal.tenant_id)
        zone = ZoneInfo(tenant.timezone)
        now = await uow.now()
        today = now.astimezone(zone).date()
        first = (day or today) - timedelta(days=(day or today).weekday())
        technicians = await _technicians(uow, tenant.id)
        technician = _chosen(technicians, technician_id)
        last = first + timedelta(days=6)
        start, end = day_bounds(first, zone)[0], day_bounds(last, zone)[1]
        if technician is None:
            hours = await uow.business_hours.get(tenant.id)
            return Week(tenant.timezone, first, today, technicians, None, hours)
        appointments, complete = await _appointments(uow, tenant.id, technician.id, start, end)
        window = await uow.calendar.window(tenant.id, start, end, technician.id)
        holds = sorted(
            (
                b
                for b in window.bookings
                if b.status is BookingStatus.HELD and b.live(now) and start <= b.start < end
            ),
            key=lambda b: (b.start, b.id),
        )
        items: dict[UUID, ServiceItem] = {}
        for booking in (*appointments, *holds):
            if booking.item_id not in items:
                item = await uow.catalog.get(tenant.id, booking.item_id)
                if item is not None:
                    items[item.id] = item
        return Week(
            timezone=tenant.timezone,
            first=first,
            today=today,
            technicians=technicians,
            technician=technician,
            hours=technician.hours or window.hours,
            appointments=tuple(appointments),
            holds=tuple(holds),
            busy=tuple(sorted(window.busy, key=lambda b: (b.start, b.id))),
            closures=frozenset(d for d in window.closures if first <= d <= last),
            items=items,
            complete=complete,
        )
