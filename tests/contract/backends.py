"""The two backends every contract suite runs on: the in-memory fakes and PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.memory import InMemoryOutboxQueue, InMemoryStore, InMemoryUnitOfWork, OutboxRow
from nmc_adapters.postgres import PgOutboxQueue, PgUnitOfWork
from nmc_adapters.postgres.catalog.tables import quotes
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_domain.catalog.quotes import Quote
from nmc_domain.shared.ports import OutboxQueue
from nmc_domain.unit_of_work import UnitOfWorkFactory

BACKENDS = ("memory", "postgres")


@attrs.frozen
class OutboxRowView:
    """What a suite may check of an outbox row, read the same way on both backends."""

    id: int
    topic: str
    attempts: int
    last_error: str | None
    available_at: datetime
    dispatched_at: datetime | None
    dead_at: datetime | None


@attrs.frozen
class Backend:
    """Ports of one backend plus the few backend-specific probes the suites need."""

    name: str
    new_uow: UnitOfWorkFactory
    queue: OutboxQueue
    # The backend's clock: the store's `now`, or the database's now() (a new transaction).
    clock: Callable[[], Awaitable[datetime]]
    outbox_row: Callable[[int], Awaitable[OutboxRowView | None]]
    # Writes an outbox row as-is (to store what this version cannot decode); returns its id.
    insert_raw_outbox: Callable[[str, dict[str, Any]], Awaitable[int]]
    # The committed quote (tenant_id, quote_id), read past the ports (and past row-level security).
    stored_quote: Callable[[UUID, UUID], Awaitable[Quote | None]]
    store: InMemoryStore | None = None  # the fake's state, for memory-only checks


def memory_backend() -> Backend:
    store = InMemoryStore()

    async def clock() -> datetime:
        return store.now

    async def row(item_id: int) -> OutboxRowView | None:
        try:
            found = store.outbox_row(item_id)
        except KeyError:
            return None
        return _view(attrs.asdict(found))

    async def insert_raw(topic: str, payload: dict[str, Any]) -> int:
        item_id = store.next_outbox_id()
        store.outbox_rows.append(OutboxRow(item_id, None, topic, payload, 1, store.now, store.now))
        return item_id

    async def stored_quote(tenant_id: UUID, quote_id: UUID) -> Quote | None:
        return store.quotes.get((tenant_id, quote_id))

    return Backend(
        name="memory",
        new_uow=lambda: InMemoryUnitOfWork(store),
        queue=InMemoryOutboxQueue(store),
        clock=clock,
        outbox_row=row,
        insert_raw_outbox=insert_raw,
        stored_quote=stored_quote,
        store=store,
    )


def postgres_backend(engine: AsyncEngine, admin_engine: AsyncEngine) -> Backend:
    """`engine` is the apps' (row-level security holds), `admin_engine` sees every tenant."""

    async def clock() -> datetime:
        async with engine.connect() as conn:
            now: datetime = (await conn.execute(text("SELECT now()"))).scalar_one()
        return now

    async def row(item_id: int) -> OutboxRowView | None:
        query = select(outbox_events).where(outbox_events.c.id == item_id)
        async with engine.connect() as conn:
            found = (await conn.execute(query)).first()
        return None if found is None else _view(dict(found._mapping))

    async def insert_raw(topic: str, payload: dict[str, Any]) -> int:
        values = {"topic": topic, "payload": payload, "schema_version": 1}
        query = insert(outbox_events).values(values).returning(outbox_events.c.id)
        async with engine.begin() as conn:
            item_id: int = (await conn.execute(query)).scalar_one()
        return item_id

    async def stored_quote(tenant_id: UUID, quote_id: UUID) -> Quote | None:
        query = select(quotes).where(quotes.c.tenant_id == tenant_id, quotes.c.id == quote_id)
        async with admin_engine.connect() as conn:
            found = (await conn.execute(query)).first()
        if found is None:
            return None
        names = attrs.fields_dict(Quote)
        return Quote(**{name: found._mapping[name] for name in names})

    return Backend(
        name="postgres",
        new_uow=lambda: PgUnitOfWork(engine),
        queue=PgOutboxQueue(engine),
        clock=clock,
        outbox_row=row,
        insert_raw_outbox=insert_raw,
        stored_quote=stored_quote,
    )


def _view(values: dict[str, Any]) -> OutboxRowView:
    names = attrs.fields_dict(OutboxRowView)
    return OutboxRowView(**{name: values[name] for name in names})
