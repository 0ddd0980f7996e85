"""The unit of work: one PostgreSQL transaction holding the repositories and the outbox."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import Self

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from nmc_adapters.postgres.outbox import PgOutbox
from nmc_adapters.postgres.repositories import (
    PgCalls,
    PgConversations,
    PgMessages,
    PgPhoneNumbers,
    PgTenants,
    PgWebhookEvents,
)
from nmc_adapters.postgres.url import sqlalchemy_url
from nmc_domain.errors import StorageUnavailable

__all__ = ["PgUnitOfWork", "create_engine", "is_reachable"]

_NOW = text("SELECT now()")


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An async engine (psycopg 3) for any accepted URL spelling."""
    return create_async_engine(
        sqlalchemy_url(database_url), pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
    )


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

    tenants: PgTenants
    numbers: PgPhoneNumbers
    webhooks: PgWebhookEvents
    calls: PgCalls
    conversations: PgConversations
    messages: PgMessages
    outbox: PgOutbox

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None
        self._now: datetime | None = None

    async def __aenter__(self) -> Self:
        try:
            conn = await self._engine.connect()
            await conn.begin()
        except (sa_exc.OperationalError, sa_exc.InterfaceError, OSError) as exc:
            raise StorageUnavailable(f"database unavailable: {exc.__class__.__name__}") from exc
        self._conn, self._now = conn, None
        self.tenants = PgTenants(conn)
        self.numbers = PgPhoneNumbers(conn)
        self.webhooks = PgWebhookEvents(conn)
        self.calls = PgCalls(conn)
        self.conversations = PgConversations(conn)
        self.messages = PgMessages(conn)
        self.outbox = PgOutbox(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        assert conn is not None
        try:
            if conn.in_transaction():
                await conn.rollback()
        finally:
            await conn.close()
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
            raise StorageUnavailable(f"database unavailable: {exc.__class__.__name__}") from exc

    async def now(self) -> datetime:
        if self._now is None:
            self._now = (await self._require().execute(_NOW)).scalar_one()
        return self._now

    async def commit(self) -> None:
        await self._require().commit()

    def _require(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._conn
