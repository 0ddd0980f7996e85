"""Domain events: past-tense facts that something else must act on (via the outbox)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

__all__ = ["CatalogUpdated", "ComplianceStatusChanged", "DomainEvent", "MessageQueued"]


@attrs.frozen
class DomainEvent:
    """Base of every event; each names the tenant it belongs to."""

    tenant_id: UUID


@attrs.frozen
class MessageQueued(DomainEvent):
    """An outbound SMS was stored and waits to be handed to the provider."""

    message_id: UUID


@attrs.frozen
class ComplianceStatusChanged(DomainEvent):
    """A tenant's 10DLC registration moved to `status` (approved releases held messages)."""

    status: str
    reason: str | None
    occurred_at: datetime


@attrs.frozen
class CatalogUpdated(DomainEvent):
    """A catalog item was created or changed (`change` is "created" or "updated")."""

    item_id: UUID
    change: str
