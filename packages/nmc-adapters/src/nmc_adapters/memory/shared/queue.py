"""Consumer side of the in-memory outbox: PgOutboxQueue's lease semantics on the store clock."""

from __future__ import annotations

import asyncio
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
        claimed = due[: max(limit, 0)]
        for row in claimed:
            row.available_at = now + timedelta(seconds=lease_seconds)
        return [OutboxItem(row.id, row.topic, row.event, row.attempts) for row in claimed]

    async def complete(self, item_ids: Sequence[int]) -> None:
        for item_id in item_ids:
            row = self._find(item_id)
            if row is not None:
                row.dispatched_at = self._store.now

    async def retry(self, item_id: int, error: str, delay_seconds: float) -> None:
        row = self._find(item_id)
        if row is not None:
            row.attempts += 1
            row.last_error = error[:_ERROR_LIMIT]
            row.available_at = self._store.now + timedelta(seconds=delay_seconds)

    async def bury(self, item_id: int, error: str) -> None:
        row = self._find(item_id)
        if row is not None:
            row.attempts += 1
            row.last_error = error[:_ERROR_LIMIT]
            row.dead_at = self._store.now

    def _find(self, item_id: int) -> OutboxRow | None:
        # Like PgOutboxQueue's UPDATE … WHERE id = :id AND still pending: an unknown or finished
        # row changes nothing (a worker whose lease ran out cannot undo another's outcome).
        try:
            row = self._store.outbox_row(item_id)
        except KeyError:
            return None
        return row if row.dispatched_at is None and row.dead_at is None else None


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
