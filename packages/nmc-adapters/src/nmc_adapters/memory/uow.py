"""The in-memory unit of work: writes are staged and reach the store only on `commit()`."""

from __future__ import annotations

from collections import ChainMap
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from nmc_adapters.memory.directory import InMemoryCatalog, InMemoryQuotes, InMemoryUsers
from nmc_adapters.memory.repositories import (
    InMemoryCalls,
    InMemoryConversations,
    InMemoryMessages,
    InMemoryPhoneNumbers,
    InMemoryTenants,
    InMemoryWebhookEvents,
)
from nmc_adapters.memory.store import InMemoryStore, OutboxRow
from nmc_adapters.wire import encode_event
from nmc_domain.events import DomainEvent
from nmc_domain.ports import (
    CallRepository,
    CatalogRepository,
    ConversationRepository,
    MessageRepository,
    Outbox,
    PhoneNumberRepository,
    QuoteRepository,
    TenantRepository,
    UserRepository,
    WebhookEventLog,
)

__all__ = ["InMemoryOutbox", "InMemoryUnitOfWork"]

_TABLES = (
    "tenants",
    "numbers",
    "webhook_events",
    "calls",
    "conversations",
    "messages",
    "users",
    "catalog_items",
    "quotes",
)


class InMemoryOutbox:
    """Producer side: rows get their id at once (like an identity) and wait for the commit."""

    def __init__(self, store: InMemoryStore, uow: InMemoryUnitOfWork) -> None:
        self._store = store
        self._uow = uow
        self.staged: list[OutboxRow] = []

    async def add(self, event: DomainEvent) -> None:
        topic, version, payload = encode_event(event)
        now = await self._uow.now()
        row = OutboxRow(
            id=self._store.next_outbox_id(),
            tenant_id=event.tenant_id,
            topic=topic,
            payload=payload,
            schema_version=version,
            available_at=now,
            created_at=now,
        )
        self.staged.append(row)


class InMemoryUnitOfWork:
    """Same contract as PgUnitOfWork, at READ COMMITTED: each read sees the latest commits.

    A commit writes only the keys this unit of work touched, so two interleaved units of work
    do not undo each other's changes. Unlike PostgreSQL, nothing waits for a row lock: two open
    units of work may both record the same webhook event, take the same number, or add users
    with the same email (the later commit wins). Use cases finish a unit of work without
    yielding to other tasks, so in practice this does not arise. Nor is there row-level
    security: the repositories' own tenant filter is the only wall.
    """

    # Typed as the ports: a Protocol's plain attributes are invariant, so a concrete type here
    # would keep this class from being a UnitOfWork to mypy.
    tenants: TenantRepository
    numbers: PhoneNumberRepository
    webhooks: WebhookEventLog
    calls: CallRepository
    conversations: ConversationRepository
    messages: MessageRepository
    users: UserRepository
    catalog: CatalogRepository
    quotes: QuoteRepository
    outbox: Outbox

    def __init__(self, store: InMemoryStore) -> None:
        self.bound_tenant: UUID | None = None
        self._store = store
        self._staged: dict[str, dict[Any, Any]] | None = None
        self._now: datetime | None = None

    async def __aenter__(self) -> Self:
        store = self._store
        staged: dict[str, dict[Any, Any]] = {table: {} for table in _TABLES}
        views = {table: ChainMap(staged[table], getattr(store, table)) for table in _TABLES}
        self._staged, self._now = staged, None
        tenants = views["tenants"]
        self.tenants = InMemoryTenants(tenants, views["numbers"])
        self.numbers = InMemoryPhoneNumbers(views["numbers"], tenants)
        self.webhooks = InMemoryWebhookEvents(views["webhook_events"], lambda: self._clock())
        self.calls = InMemoryCalls(views["calls"], tenants)
        self.conversations = InMemoryConversations(views["conversations"], tenants)
        self.messages = InMemoryMessages(views["messages"], tenants)
        self.users = InMemoryUsers(views["users"], tenants)
        self.catalog = InMemoryCatalog(views["catalog_items"], tenants)
        self.quotes = InMemoryQuotes(views["quotes"], views["catalog_items"])
        self.outbox = self._outbox = InMemoryOutbox(store, self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was not committed is dropped with the staging area.
        self._staged = None

    async def now(self) -> datetime:
        return self._clock()

    async def bind_tenant(self, tenant_id: UUID) -> None:
        # The fake has no second wall: its queries' tenant filter is the only one. It records
        # the binding so tests can see that a use case scoped itself.
        self._require()
        self.bound_tenant = tenant_id

    async def commit(self) -> None:
        staged = self._require()
        store = self._store
        for table, rows in staged.items():
            getattr(store, table).update(rows)
            rows.clear()
        added, self._outbox.staged = self._outbox.staged, []
        store.outbox_rows.extend(added)
        if added:
            for listener in list(store.outbox_listeners):
                listener()

    def _clock(self) -> datetime:
        # Like PostgreSQL's now(): read once, then fixed for the rest of the unit of work.
        self._require()
        if self._now is None:
            self._now = self._store.now
        return self._now

    def _require(self) -> dict[str, dict[Any, Any]]:
        if self._staged is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._staged
