"""The in-memory database: committed state shared by every fake unit of work, and its clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from nmc_adapters.memory.contexts import TABLES
from nmc_adapters.memory.shared.records import OutboxRow
from nmc_domain.shared.events import DomainEvent

__all__ = ["DEFAULT_START", "InMemoryStore"]

# A fixed, tz-aware start so tests read the same times on every run (a Monday, 9 am Chicago).
DEFAULT_START = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)


class InMemoryStore:
    """Committed rows by key plus a clock that only moves when told.

    Every table the contexts register is a dict here, readable as an attribute for assertions
    (`store.users[tenant_id, user_id]`); most are keyed (tenant_id, id) like the primary keys.
    """

    def __init__(self, now: datetime = DEFAULT_START) -> None:
        if now.tzinfo is None:
            raise ValueError("the store's clock must be tz-aware, as the database's is")
        self.now = now
        self.tables: dict[str, dict[Any, Any]] = {table: {} for table in TABLES}
        self.outbox_rows: list[OutboxRow] = []
        # Called after a commit that added outbox rows (the NOTIFY of the PostgreSQL trigger).
        self.outbox_listeners: list[Callable[[], None]] = []
        # Like an identity column: ids are never reused, and a rolled-back insert leaves a gap.
        self._outbox_ids = itertools.count(1)

    def __getattr__(self, name: str) -> dict[Any, Any]:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

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
