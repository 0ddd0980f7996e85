"""Ports of scheduling: the setup (technicians, hours, closures, busy blocks, settings), the
bookings that claim time, and one read of a whole window for availability."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

import attrs

from nmc_domain.catalog.ports import CatalogUnitOfWork
from nmc_domain.scheduling.availability import Taken
from nmc_domain.scheduling.booking import Booking
from nmc_domain.scheduling.google_store import (
    GoogleChannelRepository,
    GoogleLinkRepository,
    GoogleShadowRepository,
)
from nmc_domain.scheduling.jobber_ports import JobberBlockRepository, JobberLinkRepository
from nmc_domain.scheduling.model import BusyBlock, Closure, Technician, WeeklyHours
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.ports import TenancyUnitOfWork

__all__ = [
    "BookingRepository",
    "BusinessHoursRepository",
    "BusyBlockRepository",
    "CalendarReader",
    "CalendarWindow",
    "ClosureRepository",
    "SchedulingSettingsRepository",
    "SchedulingUnitOfWork",
    "TechnicianRepository",
]


class TechnicianRepository(Protocol):
    """The tenant's technicians; an email belongs to one of them (a second raises Conflict
    naming `email`)."""

    async def add(self, technician: Technician) -> None: ...

    async def get(
        self, tenant_id: UUID, technician_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Technician | None: ...

    async def save(self, technician: Technician) -> None: ...

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[Technician]:
        """Up to `limit` technicians after the key, ordered by (name, id)."""
        ...

    async def by_emails(self, tenant_id: UUID, emails: Iterable[str]) -> Sequence[Technician]:
        """The technicians (active or not) whose email is one of `emails` (lower-cased)."""
        ...


class BusinessHoursRepository(Protocol):
    """The tenant's weekly hours (none stored: closed every day)."""

    async def get(self, tenant_id: UUID) -> WeeklyHours: ...

    async def replace(self, tenant_id: UUID, hours: WeeklyHours) -> None: ...

    async def with_closures(
        self, tenant_id: UUID, first: date, last: date
    ) -> tuple[WeeklyHours, frozenset[date]]:
        """The hours and the closed dates from `first` to `last`, in one read (the text-back's
        hot path asks whether the business is open)."""
        ...


class ClosureRepository(Protocol):
    """Dated closures; one per date (a second raises Conflict naming `date`)."""

    async def add(self, closure: Closure) -> None: ...

    async def delete(self, tenant_id: UUID, closure_id: UUID) -> bool:
        """True when it existed."""
        ...

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[Closure]:
        """Ordered by (date, id)."""
        ...

    async def between(self, tenant_id: UUID, first: date, last: date) -> frozenset[date]:
        """The closed dates from `first` to `last`, both included."""
        ...


class BusyBlockRepository(Protocol):
    """Busy blocks; (technician, source, external_id) is unique for external ones."""

    async def add(self, block: BusyBlock) -> None: ...

    async def delete(self, tenant_id: UUID, block_id: UUID) -> bool: ...

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[BusyBlock]:
        """Ordered by (start, id)."""
        ...


class SchedulingSettingsRepository(Protocol):
    """One row of settings per tenant (none stored: the defaults)."""

    async def get(self, tenant_id: UUID) -> SchedulingSettings: ...

    async def save(self, settings: SchedulingSettings) -> None: ...


class BookingRepository(Protocol):
    """Holds and appointments: the only writer of a technician's claimed time.

    `claim` and `move` are where the no-double-booking guarantee lives: the store refuses a
    claim that overlaps another active one of the same technician (SlotTaken), after
    releasing the expired holds in its way in the same transaction.
    """

    async def lock_technician(
        self, tenant_id: UUID, technician_id: UUID, *, wait: bool = True
    ) -> bool:
        """Serialize claims on one technician until the unit of work ends (True). Without
        `wait`, only when nobody holds the lock now: False when someone else is claiming that
        technician's time at this moment (who takes several locks this way never deadlocks)."""
        ...

    async def claim(self, booking: Booking) -> None:
        """Store a new hold; SlotTaken when its time (with buffer) overlaps an active claim."""
        ...

    async def move(self, booking: Booking) -> None:
        """Store an appointment's new technician and times; SlotTaken as for `claim`."""
        ...

    async def save(self, booking: Booking) -> None:
        """Store a status change (book, release, cancel) of an existing booking."""
        ...

    async def get(
        self, tenant_id: UUID, booking_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Booking | None: ...

    async def by_idempotency_key(self, tenant_id: UUID, key: str) -> Booking | None: ...

    async def appointments(
        self,
        tenant_id: UUID,
        start: datetime,
        end: datetime,
        technician_id: UUID | None,
        after: PageKey | None,
        limit: int,
    ) -> Sequence[Booking]:
        """Booked and canceled appointments starting in [start, end), ordered by (start, id)."""
        ...


@attrs.frozen
class CalendarWindow:
    """Everything availability needs about a tenant, read together."""

    settings: SchedulingSettings
    hours: WeeklyHours
    technicians: tuple[Technician, ...]
    closures: frozenset[date]
    busy: tuple[BusyBlock, ...]
    bookings: tuple[Booking, ...]
    taken: tuple[Taken, ...] = ()


class CalendarReader(Protocol):
    """One read of a whole window (in one round trip where the store can)."""

    async def window(
        self,
        tenant_id: UUID,
        start: datetime,
        end: datetime,
        technician_id: UUID | None = None,
        *,
        merged: bool = False,
    ) -> CalendarWindow:
        """Settings, hours, active technicians, closures, and the busy blocks and active
        bookings overlapping [start, end) (of one technician only, when given).

        `merged`: instead of the bookings, the time the live ones take as of the
        transaction's now (start to blocked_until), in `taken`, back-to-back and overlapping
        stretches of one technician merged where the store can.
        """
        ...


class SchedulingUnitOfWork(CatalogUnitOfWork, TenancyUnitOfWork, Protocol):
    """A unit of work that knows the schedule (and the catalog and tenant it serves)."""

    technicians: TechnicianRepository
    business_hours: BusinessHoursRepository
    closures: ClosureRepository
    busy_blocks: BusyBlockRepository
    scheduling_settings: SchedulingSettingsRepository
    bookings: BookingRepository
    calendar: CalendarReader
    google_links: GoogleLinkRepository
    google_channels: GoogleChannelRepository
    google_shadow: GoogleShadowRepository
    jobber_links: JobberLinkRepository
    jobber_blocks: JobberBlockRepository
