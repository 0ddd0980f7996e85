"""The unit of work: one PostgreSQL transaction holding the repositories and the outbox."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

import psycopg
from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from nmc_adapters.postgres.contexts import repositories
from nmc_adapters.postgres.sql import Transaction, driver
from nmc_adapters.postgres.url import sqlalchemy_url
from nmc_domain.billing.model import BillingTerms
from nmc_domain.shared.errors import StorageUnavailable, TryAgain

__all__ = ["APP_ROLE", "PgUnitOfWork", "create_engine", "is_reachable"]

_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, psycopg.OperationalError, OSError)
# Lost to concurrent work, not to an outage: deadlocks (40P01), serialization failures (40001),
# lock and statement timeouts. The database rolled the transaction back; running the work again
# in a fresh unit of work may succeed. (psycopg files these under OperationalError too.)
# Matched on SQLSTATE: psycopg's classes for these do not share a base beyond
# OperationalError (DeadlockDetected is not a TransactionRollback subclass).
_CONTENTION_STATES = ("40", "55P03", "57014")


def _is_contention(exc: BaseException) -> bool:
    state = exc.sqlstate if isinstance(exc, psycopg.Error) else None
    return state is not None and state.startswith(_CONTENTION_STATES)


_REPOSITORIES = repositories()
_NOT_ENFORCED = BillingTerms()


def _is_outage(exc: BaseException) -> bool:
    """The connection is gone or the server cannot serve (SQLSTATE classes 08 and 57P, or no
    SQLSTATE at all): 503. Other errors filed as operational (a value too large for an index,
    54000) are our bug or bad input, not an outage, and must not raise a false alarm."""
    if isinstance(exc, psycopg.OperationalError):
        state = exc.sqlstate
        return state is None or state.startswith(("08", "57P"))
    return isinstance(exc, _UNAVAILABLE)


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
    """Rolls back on exit unless `commit()` was called; driver errors leave as domain errors
    (TryAgain for contention, StorageUnavailable for an outage).

    Its repositories are every context's registrations (`contexts.repositories()`), built on
    this transaction when the unit of work begins; their names and types are the ports'. The
    ports' plain values (how billing is enforced here) are given when it is made.
    """

    if TYPE_CHECKING:
        # The repositories are set per unit of work from the contexts' registrations; to the
        # type checker they are whatever the ports say (a test holds the registrations to
        # exactly the attributes the domain's UnitOfWork declares).
        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, engine: AsyncEngine, *, billing_terms: BillingTerms = _NOT_ENFORCED) -> None:
        self._engine = engine
        self.billing_terms = billing_terms
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
        for name, repository in _REPOSITORIES.items():
            setattr(self, name, repository(tx))
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
        if exc is not None and _is_contention(exc):
            raise TryAgain(f"lost to concurrent work: {exc.__class__.__name__}") from exc
        if exc is not None and _is_outage(exc):
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
