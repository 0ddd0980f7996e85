"""Ports every context shares: the unit of work's core, the outbox, and the webhook event log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID, uuid4

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = [
    "Outbox",
    "OutboxAdmin",
    "OutboxFilter",
    "OutboxItem",
    "OutboxQueue",
    "OutboxRecord",
    "Purged",
    "RowLock",
    "StoredWebhook",
    "UnitOfWork",
    "Wakeups",
    "WebhookEventLog",
]


class RowLock(Enum):
    """How a read locks the row until the unit of work ends."""

    NONE = "none"
    SHARE = "share"
    UPDATE = "update"


@attrs.frozen
class StoredWebhook:
    """A provider event as it was stored when it arrived."""

    provider: str
    key: str
    tenant_id: UUID | None
    payload: Mapping[str, str]
    received_at: datetime


class WebhookEventLog(Protocol):
    """Remembers provider events; the database, not a read-then-write, recognises replays."""

    async def get(self, provider: str, key: str) -> StoredWebhook | None:
        """The stored event, None when (provider, key) was never seen (or was purged)."""
        ...

    async def record(
        self, provider: str, key: str, tenant_id: UUID | None, payload: Mapping[str, str]
    ) -> bool:
        """True the first time (provider, key) is seen, False for every replay."""
        ...


class Outbox(Protocol):
    """Producer side: an event written here is delivered once its transaction commits (and
    not before `not_before`, when given: a timer on the database clock)."""

    async def add(self, event: DomainEvent, *, not_before: datetime | None = None) -> None: ...


class UnitOfWork(Protocol):
    """One database transaction; rolled back on exit unless `commit()` was called.

    Each context extends this with its own repositories (`IdentityUnitOfWork` adds `users`, …);
    a use case asks for the narrowest one it needs.
    """

    outbox: Outbox
    webhooks: WebhookEventLog

    async def now(self) -> datetime:
        """The database's clock, fixed for the whole transaction."""
        ...

    async def bind_tenant(self, tenant_id: UUID) -> None:
        """Scope the unit of work to one tenant (row-level security's second wall).

        `tenants.by_number` binds to the number's tenant by itself.
        """
        ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@attrs.frozen
class OutboxItem:
    """A claimed outbox row; `event` is None when its payload could not be decoded.

    `token` names this claim: only its holder may finish, retry or bury the row (a worker whose
    lease lapsed and was taken over cannot). `attempts` already counts a claim that lapsed
    (its worker died), `age_seconds` is the row's age at the claim on the database clock
    (counted from its last requeue, if any: the retry budget starts again there), and
    `reclaimed` says the previous claim lapsed; `reclaims` counts the lapsed claims so far.
    """

    id: int
    topic: str
    event: DomainEvent | None
    attempts: int
    token: UUID = attrs.field(factory=uuid4)
    age_seconds: float = 0.0
    reclaimed: bool = False
    request_id: str | None = None
    reclaims: int = 0


class OutboxQueue(Protocol):
    """Consumer side of the outbox; safe with several workers at once.

    Each outcome applies only while `item.token` is the row's current claim and the row is
    pending; it returns False (changing nothing) otherwise.
    """

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[OutboxItem]:
        """Up to `limit` due rows, the earliest due first (then by id), hidden from other
        workers for the lease under a fresh token."""
        ...

    async def complete(self, items: Sequence[OutboxItem]) -> Sequence[int]:
        """Mark these rows dispatched, in one go (the rows are kept); returns the ids marked
        (a row another claim took over is not)."""
        ...

    async def retry(self, item: OutboxItem, error: str, delay_seconds: float) -> bool:
        """Count a failed attempt and make the row due again after the delay."""
        ...

    async def bury(self, item: OutboxItem, error: str) -> bool:
        """Count a failed attempt and dead-letter the row."""
        ...

    async def set_aside(self, item: OutboxItem, reason: str) -> bool:
        """Take the row out of the queue for a person to review (`needs_review`)."""
        ...

    async def release(self, items: Sequence[OutboxItem]) -> int:
        """Hand back unfinished claims (shutdown): due at once, not counted as attempts."""
        ...


@attrs.frozen
class OutboxRecord:
    """An outbox row as the people who run NMC see it (`nmc replay list`)."""

    id: int
    tenant_id: UUID | None
    topic: str
    attempts: int
    last_error: str | None
    created_at: datetime
    available_at: datetime
    dispatched_at: datetime | None
    dead_at: datetime | None
    needs_review_at: datetime | None
    request_id: str | None
    event: DomainEvent | None

    @property
    def state(self) -> str:
        """dispatched, dead, needs_review or pending."""
        if self.dispatched_at is not None:
            return "dispatched"
        if self.dead_at is not None:
            return "dead"
        if self.needs_review_at is not None:
            return "needs_review"
        return "pending"


@attrs.frozen
class OutboxFilter:
    """Which rows `nmc replay` lists or requeues; None means any."""

    topic: str | None = None
    tenant_id: UUID | None = None
    since: datetime | None = None
    state: str | None = None  # "dead", "needs_review", "pending", "dispatched"


@attrs.frozen
class Purged:
    """What one retention pass deleted."""

    outbox_rows: int
    webhook_events: int


class OutboxAdmin(Protocol):
    """The operators' view of the outbox: list, requeue, purge (every tenant's rows)."""

    async def find(self, where: OutboxFilter, *, limit: int) -> Sequence[OutboxRecord]:
        """Matching rows, oldest first."""
        ...

    async def get(self, ids: Sequence[int]) -> Sequence[OutboxRecord]:
        """These rows (unknown ids are left out), by id."""
        ...

    async def requeue(self, ids: Sequence[int]) -> Sequence[int]:
        """Make these dead or set-aside rows due now with attempts, lapsed claims and the retry
        budget reset (earlier error kept); returns the ids requeued (rows pending or
        dispatched are left alone)."""
        ...

    async def purge(self, older_than: datetime, *, batch: int) -> Purged:
        """Delete up to `batch` finished outbox rows (dispatched or dead) and stored webhook
        events written before `older_than`."""
        ...


class Wakeups(Protocol):
    """Tells the worker that new outbox rows may be due."""

    async def wait(self, seconds: float) -> bool:
        """Return True on a wakeup, False when `seconds` passed without one."""
        ...
