"""Ports every context shares: the unit of work's core, the outbox, and the webhook event log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = [
    "Outbox",
    "OutboxItem",
    "OutboxQueue",
    "RowLock",
    "UnitOfWork",
    "Wakeups",
    "WebhookEventLog",
]


class RowLock(Enum):
    """How a read locks the row until the unit of work ends."""

    NONE = "none"
    SHARE = "share"
    UPDATE = "update"


class WebhookEventLog(Protocol):
    """Remembers provider events; the database, not a read-then-write, recognises replays."""

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
    """A claimed outbox row; `event` is None when its payload could not be decoded."""

    id: int
    topic: str
    event: DomainEvent | None
    attempts: int


class OutboxQueue(Protocol):
    """Consumer side of the outbox; safe with several workers at once."""

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[OutboxItem]:
        """Up to `limit` due rows, the earliest due first (then by id), hidden from other
        workers for the lease."""
        ...

    async def complete(self, item_ids: Sequence[int]) -> None:
        """Mark these rows dispatched, in one go (the rows are kept)."""
        ...

    async def retry(self, item_id: int, error: str, delay_seconds: float) -> None:
        """Count a failed attempt and make the row due again after the delay."""
        ...

    async def bury(self, item_id: int, error: str) -> None:
        """Count a failed attempt and dead-letter the row."""
        ...


class Wakeups(Protocol):
    """Tells the worker that new outbox rows may be due."""

    async def wait(self, seconds: float) -> bool:
        """Return True on a wakeup, False when `seconds` passed without one."""
        ...
