"""The in-memory database: committed state shared by every fake unit of work, and its clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from nmc_adapters.wire import UnknownTopic, decode_event
from nmc_domain.events import DomainEvent
from nmc_domain.model.calls import CallRecord
from nmc_domain.model.catalog import ServiceItem
from nmc_domain.model.conversation import Conversation
from nmc_domain.model.messages import OutboundMessage
from nmc_domain.model.quotes import Quote
from nmc_domain.model.tenant import Tenant
from nmc_domain.model.users import User

__all__ = ["DEFAULT_START", "InMemoryStore", "OutboxRow", "WebhookEvent"]

# A fixed, tz-aware start so tests read the same times on every run (a Monday, 9 am Chicago).
DEFAULT_START = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)


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

    @property
    def event(self) -> DomainEvent | None:
        """The decoded payload, None when it cannot be read (as the claim reports it)."""
        try:
            return decode_event(dict(self.payload))
        except UnknownTopic:
            return None

    def is_due(self, now: datetime) -> bool:
        """Pending (neither dispatched nor dead) and available at `now`."""
        return self.dispatched_at is None and self.dead_at is None and self.available_at <= now


class InMemoryStore:
    """Committed rows by key (public, for assertions) plus a clock that only moves when told."""

    def __init__(self, now: datetime = DEFAULT_START) -> None:
        if now.tzinfo is None:
            raise ValueError("the store's clock must be tz-aware, as the database's is")
        self.now = now
        self.tenants: dict[UUID, Tenant] = {}
        self.numbers: dict[str, UUID] = {}
        self.webhook_events: dict[tuple[str, str], WebhookEvent] = {}
        self.calls: dict[tuple[UUID, UUID], CallRecord] = {}
        self.conversations: dict[tuple[UUID, UUID], Conversation] = {}
        self.messages: dict[tuple[UUID, UUID], OutboundMessage] = {}
        # Keyed (tenant_id, id), like the tables' primary keys.
        self.users: dict[tuple[UUID, UUID], User] = {}
        self.catalog_items: dict[tuple[UUID, UUID], ServiceItem] = {}
        self.quotes: dict[tuple[UUID, UUID], Quote] = {}
        self.outbox_rows: list[OutboxRow] = []
        # Called after a commit that added outbox rows (the NOTIFY of the PostgreSQL trigger).
        self.outbox_listeners: list[Callable[[], None]] = []
        # Like an identity column: ids are never reused, and a rolled-back insert leaves a gap.
        self._outbox_ids = itertools.count(1)

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward; returns the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.now += timedelta(seconds=seconds)
        return self.now

    def next_outbox_id(self) -> int:
        return next(self._outbox_ids)

    def outbox_row(self, item_id: int) -> OutboxRow:
        """The committed outbox row with this id; KeyError when there is none."""
        for row in self.outbox_rows:
            if row.id == item_id:
                return row
        raise KeyError(item_id)

    def outbox_events(self) -> list[DomainEvent | None]:
        """Every committed outbox row's event, in id order (dispatched and dead ones included)."""
        return [row.event for row in sorted(self.outbox_rows, key=lambda row: row.id)]
