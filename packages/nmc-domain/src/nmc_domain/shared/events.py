"""The base of domain events: past-tense facts that something else must act on (via the outbox)."""

from __future__ import annotations

from uuid import UUID

import attrs

__all__ = ["DomainEvent"]


@attrs.frozen
class DomainEvent:
    """Base of every event; each names the tenant it belongs to."""

    tenant_id: UUID
