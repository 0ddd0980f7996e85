"""Rows of the shared tables: remembered provider events and outbox rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from nmc_adapters.wire import UnknownTopic, decode_event
from nmc_domain.shared.events import DomainEvent

__all__ = ["OutboxRow", "WebhookEvent"]


@attrs.frozen
class WebhookEvent:
    """A remembered provider event (the row of `webhook_events`)."""

    provider: str
    key: str
    tenant_id: UUID | None
    payload: Mapping[str, str]
    received_at: datetime


@attrs.define
class OutboxRow:
    """One outbox row, mutable like the table's (the queue updates it in place)."""

    id: int
    tenant_id: UUID | None
    topic: str
    payload: dict[str, Any]
    schema_version: int
    available_at: datetime
    created_at: datetime
    attempts: int = 0
    last_error: str | None = None
    dispatched_at: datetime | None = None
    dead_at: datetime | None = None
    lease_token: UUID | None = None
    needs_review_at: datetime | None = None
    request_id: str | None = None
    reclaims: int = 0

    @property
    def pending(self) -> bool:
        """Neither dispatched, nor dead, nor set aside for review."""
        return self.dispatched_at is None and self.dead_at is None and self.needs_review_at is None

    @property
    def event(self) -> DomainEvent | None:
        """The decoded payload, None when it cannot be read (as the claim reports it)."""
        try:
            return decode_event(dict(self.payload))
        except UnknownTopic:
            return None

    def is_due(self, now: datetime) -> bool:
        """Pending and available at `now`."""
        return self.pending and self.available_at <= now
