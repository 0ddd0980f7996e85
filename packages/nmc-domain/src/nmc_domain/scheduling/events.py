"""Events of scheduling: holds and appointments as they change."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = [
    "AppointmentBooked",
    "AppointmentCanceled",
    "AppointmentHeld",
    "AppointmentRescheduled",
]


@attrs.frozen
class AppointmentHeld(DomainEvent):
    """A slot is held for a contact until `expires_at`."""

    hold_id: UUID
    technician_id: UUID
    item_id: UUID
    start: datetime
    end: datetime
    expires_at: datetime


@attrs.frozen
class AppointmentBooked(DomainEvent):
    """A hold became an appointment, at the price snapshotted now."""

    appointment_id: UUID
    technician_id: UUID
    item_id: UUID
    start: datetime
    end: datetime
    price_cents: int
    currency: str
    contact_phone: str


@attrs.frozen
class AppointmentCanceled(DomainEvent):
    """An appointment was canceled; its time is free again."""

    appointment_id: UUID
    technician_id: UUID
    start: datetime
    end: datetime


@attrs.frozen
class AppointmentRescheduled(DomainEvent):
    """An appointment moved (maybe to another technician)."""

    appointment_id: UUID
    technician_id: UUID
    start: datetime
    end: datetime
    previous_technician_id: UUID
    previous_start: datetime
    previous_end: datetime
