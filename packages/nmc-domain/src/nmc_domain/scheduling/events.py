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
    "GoogleCalendarConnected",
    "GoogleCalendarDisconnected",
    "GoogleChannelStopRequested",
    "GoogleSyncRequested",
    "JobberItemChanged",
    "JobberSyncRequested",
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


@attrs.frozen
class JobberItemChanged(DomainEvent):
    """Jobber's webhook said a visit or job (`topic`, e.g. VISIT_UPDATE) changed: the worker
    reads it from Jobber as it is now and makes the tenant's busy blocks match."""

    topic: str
    item_id: str
    occurred_at: datetime


@attrs.frozen
class JobberSyncRequested(DomainEvent):
    """The tenant's Jobber blocks need a full sync of the window (`reason`: "connected")."""

    reason: str


@attrs.frozen
class GoogleCalendarConnected(DomainEvent):
    """A technician connected their Google Calendar (connection `connection_id`): the worker
    opens its push channel and runs the first full sync."""

    technician_id: UUID
    connection_id: UUID


@attrs.frozen
class GoogleSyncRequested(DomainEvent):
    """The technician's calendar may have changed (`reason`: "webhook", "poll", ...): the
    worker pulls the changes into the shadow busy blocks. One is queued at a time per
    calendar (further requests coalesce into it)."""

    technician_id: UUID
    reason: str


@attrs.frozen
class GoogleChannelStopRequested(DomainEvent):
    """A push channel we no longer follow (renewed, reconnected or disconnected): the worker
    asks Google to stop it, with the grant (sealed) it was opened with."""

    technician_id: UUID
    channel_id: UUID
    resource_id: str
    refresh_token_sealed: str


@attrs.frozen
class GoogleCalendarDisconnected(DomainEvent):
    """The owner disconnected a technician's calendar: the worker revokes the grant (sealed),
    unless the technician has connected again meanwhile."""

    technician_id: UUID
    refresh_token_sealed: str
