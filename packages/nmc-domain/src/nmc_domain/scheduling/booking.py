"""Holds and appointments: one booking's life, from a held slot to a job or a freed time."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.scheduling.errors import HoldExpired
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentHeld,
    AppointmentRescheduled,
)
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.events import DomainEvent

__all__ = ["Booking", "BookingStatus", "new_hold"]

Events = tuple[DomainEvent, ...]


class BookingStatus(StrEnum):
    """HELD and BOOKED occupy the technician's time; the others no longer do."""

    HELD = "held"
    BOOKED = "booked"
    RELEASED = "released"
    EXPIRED = "expired"
    CANCELED = "canceled"


_ACTIVE = frozenset({BookingStatus.HELD, BookingStatus.BOOKED})


@attrs.frozen
class Booking:
    """A claim on a technician's time: a hold (with a time limit) or an appointment.

    `blocked_until` is the job's end plus the buffer after it: the time nobody else may take.
    An appointment keeps its hold's id: one booking, one identity, from offer to job.
    """

    id: UUID
    tenant_id: UUID
    technician_id: UUID
    item_id: UUID
    contact_phone: str
    start: datetime
    end: datetime
    blocked_until: datetime
    status: BookingStatus
    expires_at: datetime | None = None
    price_cents: int | None = None
    currency: str | None = None
    idempotency_key: str | None = None
    conversation_id: UUID | None = None
    # When the hold was made (an offer) and when it became an appointment (reports count them).
    held_at: datetime | None = None
    booked_at: datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the row still claims its time in storage (expired holds are released lazily)."""
        return self.status in _ACTIVE

    def live(self, now: datetime) -> bool:
        """Whether it blocks the time at `now`: booked, or held and not yet expired."""
        if self.status is BookingStatus.BOOKED:
            return True
        return (
            self.status is BookingStatus.HELD
            and self.expires_at is not None
            and now < self.expires_at
        )

    def book(
        self, *, price_cents: int, currency: str, idempotency_key: str | None, now: datetime
    ) -> tuple[Booking, Events]:
        """The hold becomes an appointment at this price (the snapshot the job is charged)."""
        if self.status is BookingStatus.BOOKED:
            raise Conflict("hold_id", "this hold is booked already")
        if not self.live(now):
            raise HoldExpired(self.id)
        booked = attrs.evolve(
            self,
            status=BookingStatus.BOOKED,
            expires_at=None,
            price_cents=price_cents,
            currency=currency,
            idempotency_key=idempotency_key,
            booked_at=now,
        )
        event = AppointmentBooked(
            self.tenant_id,
            self.id,
            self.technician_id,
            self.item_id,
            self.start,
            self.end,
            price_cents,
            currency,
            self.contact_phone,
        )
        return booked, (event,)

    def release(self) -> Booking:
        """Let a hold go (the caller chose another slot, or said no); booked ones cannot be."""
        if self.status is BookingStatus.BOOKED:
            raise Conflict("hold_id", "this hold is booked: cancel the appointment instead")
        if self.status is BookingStatus.HELD:
            return attrs.evolve(self, status=BookingStatus.RELEASED)
        return self

    def cancel(self) -> tuple[Booking, Events]:
        """Free an appointment's time; canceling twice changes nothing."""
        if self.status is BookingStatus.CANCELED:
            return self, ()
        if self.status is not BookingStatus.BOOKED:
            raise Conflict("id", f"a {self.status.value} hold is not an appointment")
        canceled = attrs.evolve(self, status=BookingStatus.CANCELED)
        event = AppointmentCanceled(
            self.tenant_id, self.id, self.technician_id, self.start, self.end
        )
        return canceled, (event,)

    def moved(
        self, *, technician_id: UUID, start: datetime, duration: timedelta, buffer: timedelta
    ) -> tuple[Booking, Events]:
        """The appointment at a new time (and maybe with another technician)."""
        if self.status is not BookingStatus.BOOKED:
            raise Conflict("id", f"a {self.status.value} booking cannot be rescheduled")
        end = start + duration
        moved = attrs.evolve(
            self, technician_id=technician_id, start=start, end=end, blocked_until=end + buffer
        )
        if moved == self:
            return self, ()
        event = AppointmentRescheduled(
            self.tenant_id,
            self.id,
            technician_id,
            start,
            end,
            self.technician_id,
            self.start,
            self.end,
        )
        return moved, (event,)


def new_hold(
    *,
    tenant_id: UUID,
    technician_id: UUID,
    item_id: UUID,
    contact_phone: str,
    start: datetime,
    duration: timedelta,
    buffer: timedelta,
    ttl: timedelta,
    now: datetime,
    conversation_id: UUID | None = None,
    hold_id: UUID | None = None,
) -> tuple[Booking, Events]:
    """A hold on [start, start + duration) (plus the buffer), expiring `ttl` from now."""
    end = start + duration
    hold = Booking(
        id=hold_id or uuid.uuid4(),
        tenant_id=tenant_id,
        technician_id=technician_id,
        item_id=item_id,
        contact_phone=contact_phone,
        start=start,
        end=end,
        blocked_until=end + buffer,
        status=BookingStatus.HELD,
        expires_at=now + ttl,
        held_at=now,
        conversation_id=conversation_id,
    )
    event = AppointmentHeld(tenant_id, hold.id, technician_id, item_id, start, end, now + ttl)
    return hold, (event,)
