"""Scheduling in memory, with the PostgreSQL adapters' semantics (overlaps refused by the store)."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from nmc_adapters.memory.spec import Session, require_tenant
from nmc_adapters.memory.tables import Key, page
from nmc_domain.scheduling.availability import Taken
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.errors import SlotTaken
from nmc_domain.scheduling.model import BusyBlock, Closure, Technician, WeeklyHours
from nmc_domain.scheduling.ports import CalendarWindow
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = [
    "InMemoryBookings",
    "InMemoryBusinessHours",
    "InMemoryBusyBlocks",
    "InMemoryCalendar",
    "InMemoryClosures",
    "InMemorySchedulingSettings",
    "InMemoryTechnicians",
]

Views = dict[str, ChainMap[Any, Any]]


def _of(rows: ChainMap[Key, Any], tenant_id: UUID) -> list[Any]:
    return [row for (tenant, _), row in rows.items() if tenant == tenant_id and row is not None]


def _utc(moment: str) -> str:
    return datetime.fromisoformat(moment).astimezone(UTC).isoformat()


def _delete(rows: ChainMap[Key, Any], key: Key) -> bool:
    """Deleted rows are staged as None (a ChainMap cannot pop a committed row, and the unit of
    work's commit only writes staged keys); `_of` skips them."""
    if rows.get(key) is None:
        return False
    rows[key] = None
    return True


class InMemoryTechnicians:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[Key, Technician] = views["technicians"]
        self._tenants = views["tenants"]

    async def add(self, technician: Technician) -> None:
        require_tenant(self._tenants, technician.tenant_id)
        self._unique_email(technician)
        self._rows[technician.tenant_id, technician.id] = technician

    def _unique_email(self, technician: Technician) -> None:
        if technician.email is None:
            return
        for other in _of(self._rows, technician.tenant_id):
            if other.id != technician.id and other.email == technician.email:
                raise Conflict("email", "another technician has this email")

    async def get(
        self, tenant_id: UUID, technician_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Technician | None:
        return self._rows.get((tenant_id, technician_id))

    async def save(self, technician: Technician) -> None:
        if (technician.tenant_id, technician.id) in self._rows:
            self._unique_email(technician)
            self._rows[technician.tenant_id, technician.id] = technician

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[Technician]:
        return page(_of(self._rows, tenant_id), lambda t: (t.name, t.id), after, limit)

    async def by_emails(self, tenant_id: UUID, emails: Iterable[str]) -> Sequence[Technician]:
        wanted = {email.lower() for email in emails}
        return [t for t in _of(self._rows, tenant_id) if t.email is not None and t.email in wanted]


class InMemoryBusinessHours:
    def __init__(self, views: Views) -> None:
        self._views = views
        self._rows: ChainMap[UUID, WeeklyHours] = views["business_hours"]
        self._tenants = views["tenants"]

    async def get(self, tenant_id: UUID) -> WeeklyHours:
        return self._rows.get(tenant_id, WeeklyHours())

    async def replace(self, tenant_id: UUID, hours: WeeklyHours) -> None:
        require_tenant(self._tenants, tenant_id)
        self._rows[tenant_id] = hours

    async def with_closures(
        self, tenant_id: UUID, first: date, last: date
    ) -> tuple[WeeklyHours, frozenset[date]]:
        closed = InMemoryClosures(self._views)
        return await self.get(tenant_id), await closed.between(tenant_id, first, last)


class InMemorySchedulingSettings:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[UUID, SchedulingSettings] = views["scheduling_settings"]
        self._tenants = views["tenants"]

    async def get(self, tenant_id: UUID) -> SchedulingSettings:
        return self._rows.get(tenant_id, SchedulingSettings(tenant_id))

    async def save(self, settings: SchedulingSettings) -> None:
        require_tenant(self._tenants, settings.tenant_id)
        self._rows[settings.tenant_id] = settings


class InMemoryClosures:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[Key, Closure] = views["closures"]
        self._tenants = views["tenants"]

    async def add(self, closure: Closure) -> None:
        require_tenant(self._tenants, closure.tenant_id)
        if any(other.day == closure.day for other in _of(self._rows, closure.tenant_id)):
            raise Conflict("date", "this date is closed already")
        self._rows[closure.tenant_id, closure.id] = closure

    async def delete(self, tenant_id: UUID, closure_id: UUID) -> bool:
        return _delete(self._rows, (tenant_id, closure_id))

    async def between(self, tenant_id: UUID, first: date, last: date) -> frozenset[date]:
        return frozenset(c.day for c in _of(self._rows, tenant_id) if first <= c.day <= last)

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[Closure]:
        return page(_of(self._rows, tenant_id), lambda c: (c.day.isoformat(), c.id), after, limit)


class InMemoryBusyBlocks:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[Key, BusyBlock] = views["busy_blocks"]
        self._technicians: ChainMap[Key, Technician] = views["technicians"]

    async def add(self, block: BusyBlock) -> None:
        if (block.tenant_id, block.technician_id) not in self._technicians:
            raise ValueError(f"no technician {block.technician_id} (foreign key violation)")
        if block.external_id is not None and any(
            (other.technician_id, other.source, other.external_id)
            == (block.technician_id, block.source, block.external_id)
            for other in _of(self._rows, block.tenant_id)
        ):
            raise Conflict("external_id", "this event is stored already")
        self._rows[block.tenant_id, block.id] = block

    async def delete(self, tenant_id: UUID, block_id: UUID) -> bool:
        return _delete(self._rows, (tenant_id, block_id))

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[BusyBlock]:
        # By instant, as PostgreSQL orders: starts given with other UTC offsets do not sort as text.
        mark = None if after is None else (_utc(after[0]), after[1])
        return page(
            _of(self._rows, tenant_id), lambda b: (_utc(b.start.isoformat()), b.id), mark, limit
        )


class InMemoryBookings:
    """The store refuses overlapping active claims of one technician, as the EXCLUDE does."""

    def __init__(self, views: Views, session: Session) -> None:
        self._rows: ChainMap[Key, Booking] = views["bookings"]
        self._technicians: ChainMap[Key, Technician] = views["technicians"]
        self._session = session

    async def lock_technician(
        self, tenant_id: UUID, technician_id: UUID, *, wait: bool = True
    ) -> bool:
        # One event loop, and use cases do not yield inside a unit of work: nobody else holds it.
        return True

    def _claim(self, booking: Booking) -> None:
        now = self._session.clock()
        for key, other in list(self._rows.items()):
            same = other.tenant_id == booking.tenant_id and other.id != booking.id
            if not (same and other.technician_id == booking.technician_id and other.active):
                continue
            if not (other.start < booking.blocked_until and booking.start < other.blocked_until):
                continue
            if other.status is BookingStatus.HELD and not other.live(now):
                self._rows[key] = attrs.evolve(other, status=BookingStatus.EXPIRED)
                continue
            raise SlotTaken()
        if (booking.tenant_id, booking.technician_id) not in self._technicians:
            raise ValueError(f"no technician {booking.technician_id} (foreign key violation)")
        self._rows[booking.tenant_id, booking.id] = booking

    async def claim(self, booking: Booking) -> None:
        self._claim(booking)

    async def move(self, booking: Booking) -> None:
        self._claim(booking)

    async def save(self, booking: Booking) -> None:
        key = (booking.tenant_id, booking.id)
        if key not in self._rows:
            return
        if booking.idempotency_key is not None and any(
            other.idempotency_key == booking.idempotency_key and other.id != booking.id
            for other in _of(self._rows, booking.tenant_id)
        ):
            raise Conflict("Idempotency-Key", "this key was used to book another hold")
        self._rows[key] = booking

    async def get(
        self, tenant_id: UUID, booking_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Booking | None:
        return self._rows.get((tenant_id, booking_id))

    async def by_idempotency_key(self, tenant_id: UUID, key: str) -> Booking | None:
        found = [b for b in _of(self._rows, tenant_id) if b.idempotency_key == key]
        return found[0] if found else None

    async def appointments(
        self,
        tenant_id: UUID,
        start: datetime,
        end: datetime,
        technician_id: UUID | None,
        after: PageKey | None,
        limit: int,
    ) -> Sequence[Booking]:
        shown = (BookingStatus.BOOKED, BookingStatus.CANCELED)
        rows = [
            booking
            for booking in _of(self._rows, tenant_id)
            if booking.status in shown
            and start <= booking.start < end
            and (technician_id is None or booking.technician_id == technician_id)
        ]
        ordered = sorted(rows, key=lambda b: (b.start, str(b.id)))
        if after is not None:
            mark = (datetime.fromisoformat(after[0]), str(after[1]))
            ordered = [b for b in ordered if (b.start, str(b.id)) > mark]
        return ordered[: max(limit, 0)]


def _merged(bookings: Sequence[Booking]) -> tuple[Taken, ...]:
    """Each technician's taken time, back-to-back and overlapping stretches joined (as
    PostgreSQL's range_agg does)."""
    merged: list[Taken] = []
    for booking in sorted(bookings, key=lambda b: (str(b.technician_id), b.start)):
        last = merged[-1] if merged else None
        if last and last.technician_id == booking.technician_id and booking.start <= last.end:
            merged[-1] = attrs.evolve(last, end=max(last.end, booking.blocked_until))
        else:
            merged.append(Taken(booking.technician_id, booking.start, booking.blocked_until))
    return tuple(merged)


class InMemoryCalendar:
    def __init__(self, views: Views, session: Session) -> None:
        self._views = views
        self._session = session

    async def window(
        self,
        tenant_id: UUID,
        start: datetime,
        end: datetime,
        technician_id: UUID | None = None,
        *,
        merged: bool = False,
    ) -> CalendarWindow:
        views = self._views

        def mine(row: Any) -> bool:
            return technician_id is None or row.technician_id == technician_id

        claims = tuple(
            b
            for b in _of(views["bookings"], tenant_id)
            if b.active and b.start < end and start < b.blocked_until and mine(b)
        )
        first: date = (start - timedelta(days=1)).date()
        last: date = (end + timedelta(days=1)).date()
        return CalendarWindow(
            settings=views["scheduling_settings"].get(tenant_id, SchedulingSettings(tenant_id)),
            hours=views["business_hours"].get(tenant_id, WeeklyHours()),
            technicians=tuple(
                t
                for t in _of(views["technicians"], tenant_id)
                if t.active and (technician_id is None or t.id == technician_id)
            ),
            closures=frozenset(
                c.day for c in _of(views["closures"], tenant_id) if first <= c.day <= last
            ),
            busy=tuple(
                b
                for b in _of(views["busy_blocks"], tenant_id)
                if b.start < end and start < b.end and mine(b)
            ),
            bookings=() if merged else claims,
            taken=_merged([b for b in claims if b.live(self._session.clock())]) if merged else (),
        )
