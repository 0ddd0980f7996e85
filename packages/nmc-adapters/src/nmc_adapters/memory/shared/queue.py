"""Consumer side of the in-memory outbox: PgOutboxQueue's lease semantics on the store clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from nmc_adapters.memory.shared.records import OutboxRow
from nmc_adapters.memory.store import InMemoryStore
from nmc_domain.shared.ports import OutboxItem

__all__ = ["InMemoryOutboxQueue", "InMemoryWakeups"]

_ERROR_LIMIT = 2000  # PgOutboxQueue keeps this much of an error message


class InMemoryOutboxQueue:
    """Claims due rows in id order and hides them for the lease; rows are never deleted."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[OutboxItem]:
        now = self._store.now
        due = sorted((row for row in self._store.outbox_rows if row.is_due(now)), key=_by_due)
        items = []
        for row in due[: max(limit, 0)]:
            reclaimed = row.lease_token is not None
            row.attempts += int(reclaimed)
            row.reclaims += int(reclaimed)
            row.available_at = now + timedelta(seconds=lease_seconds)
            row.lease_token = uuid.uuid4()
            items.append(
                OutboxItem(
                    row.id,
                    row.topic,
                    row.event,
                    row.attempts,
                    token=row.lease_token,
                    age_seconds=max(0.0, (now - row.created_at).total_seconds()),
                    reclaimed=reclaimed,
                    reclaims=row.reclaims,
                    request_id=row.request_id,
                )
            )
        return items

    async def complete(self, items: Sequence[OutboxItem]) -> Sequence[int]:
        done = []
        for item in items:
            row = self._mine(item)
            if row is not None:
                row.dispatched_at = self._store.now
                row.lease_token = None
                done.append(row.id)
        return sorted(done)

    async def retry(self, item: OutboxItem, error: str, delay_seconds: float) -> bool:
        row = self._mine(item)
        if row is None:
            return False
        row.attempts += 1
        row.last_error = error[:_ERROR_LIMIT]
        row.lease_token = None
        row.available_at = self._store.now + timedelta(seconds=delay_seconds)
        return True

    async def bury(self, item: OutboxItem, error: str) -> bool:
        row = self._mine(item)
        if row is None:
            return False
        row.attempts += 1
        row.last_error = error[:_ERROR_LIMIT]
        row.lease_token = None
        row.dead_at = self._store.now
        return True

    async def set_aside(self, item: OutboxItem, reason: str) -> bool:
        row = self._mine(item)
        if row is None:
            return False
        row.last_error = reason[:_ERROR_LIMIT]
        row.lease_token = None
        row.needs_review_at = self._store.now
        return True

    async def release(self, items: Sequence[OutboxItem]) -> int:
        released = 0
        for item in items:
            row = self._mine(item)
            if row is not None:
                row.available_at = self._store.now
                row.lease_token = None
                released += 1
        return released

    def _mine(self, item: OutboxItem) -> OutboxRow | None:
        # Like PgOutboxQueue's UPDATE … WHERE id AND token AND still pending: an unknown or
        # finished row, or one claimed again since, changes nothing.
        try:
            row = self._store.outbox_row(item.id)
        except KeyError:
            return None
        return row if row.pending and row.lease_token == item.token else None


def _by_due(row: OutboxRow) -> tuple[datetime, int]:
    return (row.available_at, row.id)


class InMemoryWakeups:
    """`wake()` releases one waiter; given a store, every commit that adds outbox rows wakes it."""

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self._event = asyncio.Event()
        if store is not None:
            # The in-memory stand-in for the PostgreSQL trigger's NOTIFY.
            store.outbox_listeners.append(self.wake)

    def wake(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        self._event.clear()
        return True
