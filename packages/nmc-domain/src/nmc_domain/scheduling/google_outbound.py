"""Appointments in the technician's own Google Calendar (outbound), through the outbox.

The event's id is derived from our appointment id ("nmc" + its 32 hex digits: Google accepts
client-chosen ids of base32hex characters), so a retried insert finds the event it made
instead of making a second one, and the inbound sync recognises our own events coming back.
The handler always reads the appointment as it is now (events may come late or out of
order): booked → the event is put with the current times; anything else → it is deleted; a
move to another technician also deletes it from the previous technician's calendar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.google import GoogleLink
from nmc_domain.scheduling.google_ports import (
    CalendarAccessRevoked,
    CalendarProviderError,
    GoogleCalendarApi,
    OwnEvent,
)
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.secrets import Sealer

__all__ = [
    "OUR_EVENT_PREFIX",
    "Mirrored",
    "appointment_of_event",
    "event_id_of",
    "mirror_appointment",
    "own_event",
]

OUR_EVENT_PREFIX = "nmc"
APPOINTMENT_PROPERTY = "nmc_appointment_id"
_OURS = re.compile(r"^nmc([0-9a-f]{32})$")


def event_id_of(appointment_id: UUID) -> str:
    """The Google event id of an appointment (base32hex: digits and a to v only)."""
    return OUR_EVENT_PREFIX + appointment_id.hex


def appointment_of_event(event_id: str, private: Mapping[str, str] | None = None) -> UUID | None:
    """The appointment an event of ours stands for (by its id, or the private property a copy
    keeps); None for anybody else's event."""
    found = _OURS.match(event_id)
    if found is not None:
        return UUID(found[1])
    marked = (private or {}).get(APPOINTMENT_PROPERTY)
    try:
        return None if marked is None else UUID(marked)
    except ValueError:
        return None


class Mirrored(StrEnum):
    PUT = "put"
    DELETED = "deleted"
    NOT_CONNECTED = "not_connected"  # the technician follows no Google Calendar
    RECONNECT_NEEDED = "reconnect_needed"  # the grant was revoked: nothing to retry
    GONE = "gone"  # the appointment is not stored (never was, or its tenant is gone)


def own_event(booking: Booking, item_name: str) -> OwnEvent:
    """What the technician sees in their calendar for an appointment."""
    return OwnEvent(
        id=event_id_of(booking.id),
        summary=f"{item_name} (NeverMissCall)",
        description=(
            f"Booked by text through NeverMissCall.\nCustomer: {booking.contact_phone}\n"
            f"Appointment {booking.id}"
        ),
        start=booking.start,
        end=booking.end,
        private={APPOINTMENT_PROPERTY: str(booking.id)},
    )


@attrs.frozen
class _Now:
    booking: Booking | None
    item_name: str = ""
    link: GoogleLink | None = None
    previous: GoogleLink | None = None

    def shape(self) -> tuple[object, ...] | None:
        b = self.booking
        return None if b is None else (b.technician_id, b.start, b.end, b.status)


async def _read(
    new_uow: Callable[[], SchedulingUnitOfWork],
    tenant_id: UUID,
    appointment_id: UUID,
    previous_technician_id: UUID | None,
) -> _Now:
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        booking = await uow.bookings.get(tenant_id, appointment_id)
        if booking is None:
            return _Now(None)
        item = await uow.catalog.get(tenant_id, booking.item_id)
        link = await uow.google_links.get(tenant_id, booking.technician_id)
        previous = None
        if previous_technician_id is not None and previous_technician_id != booking.technician_id:
            previous = await uow.google_links.get(tenant_id, previous_technician_id)
        name = "Appointment" if item is None else item.name
        return _Now(booking, name, link, previous)


# A put is re-checked against the appointment this many times at most (each round only
# happens when the appointment changed while its event was being written).
_ROUNDS = 3


async def mirror_appointment(
    new_uow: Callable[[], SchedulingUnitOfWork],
    google: GoogleCalendarApi,
    sealer: Sealer,
    tenant_id: UUID,
    appointment_id: UUID,
    *,
    previous_technician_id: UUID | None = None,
) -> tuple[Mirrored, ...]:
    """Make the technician's calendar show the appointment as it is now (and the previous
    technician's not show it). Google's failures raise CalendarProviderError for the outbox to
    retry; a revoked grant is reported, not retried.

    A put is checked afterwards: when the appointment changed meanwhile (canceled or moved
    while its event was being written, and that change's own handler already ran), the event
    is put again as it is now, or deleted, so a late put never outlives a later change."""
    now = await _read(new_uow, tenant_id, appointment_id, previous_technician_id)
    done: list[Mirrored] = []
    if now.previous is not None:
        done.append(await _delete(google, sealer, now.previous, appointment_id))
    for _ in range(_ROUNDS):
        if now.booking is None:
            return (*done, Mirrored.GONE)
        if now.link is None:
            return (*done, Mirrored.NOT_CONNECTED)
        if now.link.revoked_at is not None:
            return (*done, Mirrored.RECONNECT_NEEDED)
        if now.booking.status is not BookingStatus.BOOKED:
            return (*done, await _delete(google, sealer, now.link, appointment_id))
        try:
            await google.put_event(
                sealer.unseal(now.link.refresh_token),
                now.link.calendar_id,
                own_event(now.booking, now.item_name),
            )
        except CalendarAccessRevoked:
            return (*done, Mirrored.RECONNECT_NEEDED)
        after = await _read(new_uow, tenant_id, appointment_id, None)
        if after.shape() == now.shape():
            return (*done, Mirrored.PUT)
        if after.booking is not None and after.booking.technician_id != now.booking.technician_id:
            done.append(await _delete(google, sealer, now.link, appointment_id))
        now = after
    raise CalendarProviderError("the appointment kept changing while it was mirrored; retrying")


async def _delete(
    google: GoogleCalendarApi, sealer: Sealer, link: GoogleLink, appointment_id: UUID
) -> Mirrored:
    if link.revoked_at is not None:
        return Mirrored.RECONNECT_NEEDED
    try:
        await google.delete_event(
            sealer.unseal(link.refresh_token), link.calendar_id, event_id_of(appointment_id)
        )
    except CalendarAccessRevoked:
        return Mirrored.RECONNECT_NEEDED
    return Mirrored.DELETED
