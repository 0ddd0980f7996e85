"""Wire format of domain events: stable, versioned names and a cattrs tagged union."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Union
from uuid import UUID

import cattrs
from cattrs.strategies import configure_tagged_union

from nmc_domain.billing.events import SubscriptionChanged, SubscriptionSyncRequested
from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.compliance.events import ComplianceStatusChanged, RegistrationSubmitted
from nmc_domain.conversation.events import ConversationIdleCheck, HandoffRequested
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentHeld,
    AppointmentRescheduled,
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
    GoogleSyncRequested,
    JobberItemChanged,
    JobberSyncRequested,
)
from nmc_domain.shared.events import DomainEvent

__all__ = ["TOPICS", "UnknownTopic", "decode_event", "encode_event"]

# Wire name -> class. A name never changes meaning: a new shape gets a new version suffix.
# A new event is one line here and one JSON Schema under schemas/events/.
TOPICS: dict[str, type[DomainEvent]] = {
    "message.queued.v1": MessageQueued,
    "compliance.status_changed.v1": ComplianceStatusChanged,
    "compliance.registration_submitted.v1": RegistrationSubmitted,
    "catalog.updated.v1": CatalogUpdated,
    "appointment.held.v1": AppointmentHeld,
    "appointment.booked.v1": AppointmentBooked,
    "appointment.canceled.v1": AppointmentCanceled,
    "appointment.rescheduled.v1": AppointmentRescheduled,
    "conversation.handoff_requested.v1": HandoffRequested,
    "conversation.idle_check.v1": ConversationIdleCheck,
    "billing.subscription_sync_requested.v1": SubscriptionSyncRequested,
    "billing.subscription_changed.v1": SubscriptionChanged,
    "calendar.jobber_item_changed.v1": JobberItemChanged,
    "calendar.jobber_sync_requested.v1": JobberSyncRequested,
    "calendar.google_connected.v1": GoogleCalendarConnected,
    "calendar.google_sync_requested.v1": GoogleSyncRequested,
    "calendar.google_channel_stop_requested.v1": GoogleChannelStopRequested,
    "calendar.google_disconnected.v1": GoogleCalendarDisconnected,
}
_NAMES = {cls: name for name, cls in TOPICS.items()}
_TAG = "type"


class UnknownTopic(ValueError):
    """A payload whose type this version does not know (or that does not fit its schema)."""


def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, lambda value, _: UUID(value))
    converter.register_unstructure_hook(datetime, datetime.isoformat)
    converter.register_structure_hook(datetime, lambda value, _: datetime.fromisoformat(value))
    union: Any = Union[tuple(TOPICS.values())]  # noqa: UP007 - built from the table
    configure_tagged_union(union, converter, tag_generator=_NAMES.__getitem__, tag_name=_TAG)
    converter.register_unstructure_hook(
        DomainEvent, lambda event: converter.unstructure(event, unstructure_as=union)
    )
    converter.register_structure_hook(
        DomainEvent, lambda value, _: converter.structure(value, union)
    )
    return converter


_CONVERTER = _converter()


def encode_event(event: DomainEvent) -> tuple[str, int, dict[str, Any]]:
    """(topic, schema version, JSON payload with its `type` tag)."""
    name = _NAMES[type(event)]
    payload: dict[str, Any] = _CONVERTER.unstructure(event, unstructure_as=DomainEvent)
    return name, int(name.rsplit(".v", 1)[1]), payload


def decode_event(payload: dict[str, Any]) -> DomainEvent:
    """The event a payload describes; UnknownTopic when it cannot be read."""
    if payload.get(_TAG) not in TOPICS:
        raise UnknownTopic(f"unknown event type {payload.get(_TAG)!r}")
    try:
        event: DomainEvent = _CONVERTER.structure(payload, DomainEvent)
    except (cattrs.BaseValidationError, ValueError, TypeError, KeyError) as exc:
        raise UnknownTopic(f"malformed {payload[_TAG]} payload: {exc}") from exc
    return event
