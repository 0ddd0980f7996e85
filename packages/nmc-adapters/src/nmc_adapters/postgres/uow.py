"""The unit of work: one PostgreSQL transaction holding the repositories and the outbox."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

import psycopg
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from nmc_adapters.postgres.directory import PgCatalog, PgQuotes, PgUsers
from nmc_adapters.postgres.outbox import PgOutbox
from nmc_adapters.postgres.repositories import (
    PgCalls,
    PgConversations,
    PgMessages,
    PgPhoneNumbers,
    PgTenants,
    PgWebhookEvents,
)
from nmc_adapters.postgres.sql import Transaction, driver
from nmc_adapters.postgres.url import sqlalchemy_url
from nmc_domain.errors import StorageUnavailable
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

__all__ = ["APP_ROLE", "PgUnitOfWork", "create_engine", "is_reachable"]

_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, psycopg.OperationalError, OSError)


APP_ROLE = "nmc_app"  # created by migration 0002: no superuser, owns no table, no BYPASSRLS


def create_engine(
    database_url: str, *, pool_size: int = 10, role: str | None = APP_ROLE
) -> AsyncEngine:
    """An async engine (psycopg 3) for any accepted URL spelling.

    Every connection first becomes `role` (SET ROLE), so row-level security holds whoever the
    URL's user is; the user must be that role or a member of it (the migrating user is). Tools
    that must see every tenant (tests' assertions) pass `role=None`.

    Connections are in autocommit mode: transactions are begun and committed explicitly, so
    they can be pipelined (see `sql.Transaction`); a single statement needs no BEGIN at all.
    """
    engine = create_async_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        isolation_level="AUTOCOMMIT",
    )
    if role is not None:
        set_role = f"SET ROLE {role}"

        @event.listens_for(engine.sync_engine, "connect")
        def _become_app_role(dbapi_connection: Any, _: object) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute(set_role)
            cursor.close()
            dbapi_connection.commit()  # a session setting must not be rolled back with a tx

    return engine


async def is_reachable(engine: AsyncEngine) -> bool:
    """True when the database answers a trivial query."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (sa_exc.DBAPIError, OSError):
        return False
    return True


class PgUnitOfWork:
    """Rolls back on exit unless `commit()` was called; driver errors leave as domain errors."""

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

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._tx: Transaction | None = None
        self._now: datetime | None = None

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
        except _UNAVAILABLE as exc:
            raise StorageUnavailable(f"database unavailable: {exc.__class__.__name__}") from exc
        try:
            tx = Transaction(await driver(conn))
            await tx.start()
        except BaseException:
            await conn.close()
            raise
        self._conn, self._tx, self._now = conn, tx, None
        self.tenants = PgTenants(tx)
        self.numbers = PgPhoneNumbers(tx)
        self.webhooks = PgWebhookEvents(tx)
        self.calls = PgCalls(tx)
        self.conversations = PgConversations(tx)
        self.messages = PgMessages(tx)
        self.users = PgUsers(tx)
        self.catalog = PgCatalog(tx)
        self.quotes = PgQuotes(tx)
        self.outbox = PgOutbox(tx)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, tx = self._conn, self._tx
        self._conn = self._tx = None
        assert conn is not None
        assert tx is not None
        try:
            await tx.close(failing=exc is not None)
        finally:
            await conn.close()
        if isinstance(exc, _UNAVAILABLE):
            raise StorageUnavailable(f"database unavailable: {exc.__class__.__name__}") from exc

    async def now(self) -> datetime:
        if self._now is None:
            self._now = await self._require().now()
        return self._now

    async def bind_tenant(self, tenant_id: UUID) -> None:
        await self._require().bind(tenant_id)

    async def commit(self) -> None:
        await self._require().commit()

    def _require(self) -> Transaction:
        if self._tx is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._tx
