"""The in-memory unit of work: writes are staged and reach the store only on `commit()`."""

from __future__ import annotations

from collections import ChainMap
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from nmc_adapters.memory.contexts import TABLES, repositories
from nmc_adapters.memory.shared.records import OutboxRow
from nmc_adapters.memory.store import InMemoryStore
from nmc_domain.billing.model import BillingTerms

__all__ = ["InMemoryUnitOfWork"]

_REPOSITORIES = repositories()
_NOT_ENFORCED = BillingTerms()


class InMemoryUnitOfWork:
    """Same contract as PgUnitOfWork, at READ COMMITTED: each read sees the latest commits.

    Its repositories are every context's registrations (`contexts.repositories()`); the ports'
    plain values (how billing is enforced here) are given when it is made. A commit
    writes only the keys this unit of work touched, so two interleaved units of work do not undo
    each other's changes. Unlike PostgreSQL, nothing waits for a row lock: two open units of
    work may both record the same webhook event, take the same number, or add users with the
    same email (the later commit wins). Use cases finish a unit of work without yielding to
    other tasks, so in practice this does not arise. Nor is there row-level security: the
    repositories' own tenant filter is the only wall.
    """

    if TYPE_CHECKING:
        # The repositories are set per unit of work from the contexts' registrations; to the
        # type checker they are whatever the ports say (a test holds the registrations to
        # exactly the attributes the domain's UnitOfWork declares).
        def __getattr__(self, name: str) -> Any: ...

    def __init__(
        self, store: InMemoryStore, *, billing_terms: BillingTerms = _NOT_ENFORCED
    ) -> None:
        self.bound_tenant: UUID | None = None
        self.store = store
        self.billing_terms = billing_terms
        self._staged: dict[str, dict[Any, Any]] | None = None
        self._outbox: list[OutboxRow] = []
        self._now: datetime | None = None

    async def __aenter__(self) -> Self:
        staged: dict[str, dict[Any, Any]] = {table: {} for table in TABLES}
        views = {table: ChainMap(staged[table], self.store.tables[table]) for table in TABLES}
        self._staged, self._outbox, self._now = staged, [], None
        for name, repository in _REPOSITORIES.items():
            setattr(self, name, repository(views, self))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped with the staging area.
        self._staged, self._outbox = None, []

    async def now(self) -> datetime:
        return self.clock()

    async def bind_tenant(self, tenant_id: UUID) -> None:
        # The fake has no second wall: its queries' tenant filter is the only one. It records
        # the binding so tests can see that a use case scoped itself.
        self._require()
        self.bound_tenant = tenant_id

    async def commit(self) -> None:
        staged = self._require()
        for table, rows in staged.items():
            self.store.tables[table].update(rows)
            rows.clear()
        added, self._outbox = self._outbox, []
        self.store.outbox_rows.extend(added)
        if added:
            for listener in list(self.store.outbox_listeners):
                listener()

    def clock(self) -> datetime:
        """Like PostgreSQL's now(): read once, then fixed for the rest of the unit of work."""
        self._require()
        if self._now is None:
            self._now = self.store.now
        return self._now

    def stage_outbox(self, row: OutboxRow) -> None:
        self._require()
        self._outbox.append(row)

    def _require(self) -> dict[str, dict[Any, Any]]:
        if self._staged is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._staged
