"""Statements built with SQLAlchemy Core once, run on psycopg in pipeline mode.

Two costs dominate the hot paths (a webhook, a dispatch): building and compiling Core statements
per call, and round trips, each several syscalls. So each statement is compiled once, at import,
to SQL with explicit casts (psycopg's dialect renders `%(name)s::TYPE`), and a transaction runs
pipelined: BEGIN leaves with the first query, writes whose results nobody reads leave together
with COMMIT. Reading a result is what waits for the server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from uuid import UUID

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ClauseElement

__all__ = ["Db", "Row", "Transaction", "autocommit", "compiled", "driver"]

_DIALECT = PGDialect_psycopg()  # type: ignore[no-untyped-call]
# Transaction-local (the `true`): a pooled connection never carries a tenant to its next user.
_BIND = b"SELECT now(), set_config('app.tenant_id', %(tenant)s::text, true)"
Row = dict[str, Any]


def compiled(statement: ClauseElement) -> bytes:
    """The SQL of a Core statement, with named `%(param)s` placeholders."""
    return str(statement.compile(dialect=_DIALECT)).encode()


async def driver(conn: AsyncConnection) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under an SQLAlchemy one."""
    raw = await conn.get_raw_connection()
    pg = raw.driver_connection
    assert isinstance(pg, psycopg.AsyncConnection)
    return pg


class Db:
    """Runs compiled statements on one psycopg connection; rows come back as dicts."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def _ready(self) -> None:
        """Hook for transactions: called before every statement."""

    async def one(self, sql: bytes, params: Mapping[str, Any] | None = None) -> Row | None:
        await self._ready()
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(sql, params)
            return await cursor.fetchone()

    async def all(self, sql: bytes, params: Mapping[str, Any] | None = None) -> list[Row]:
        await self._ready()
        async with self.conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(sql, params)
            return await cursor.fetchall()

    async def all_many(
        self, statements: Sequence[tuple[bytes, Mapping[str, Any]]]
    ) -> list[list[Row]]:
        """Several queries sent together, then their rows read: in a pipeline, one round trip."""
        await self._ready()
        cursors = []
        for sql, params in statements:
            cursor = self.conn.cursor(row_factory=dict_row)
            await cursor.execute(sql, params)
            cursors.append(cursor)
        results = []
        for cursor in cursors:
            results.append(await cursor.fetchall())
            await cursor.close()
        return results

    async def run(self, sql: bytes, params: Mapping[str, Any] | None = None) -> None:
        """A statement whose result nobody reads: in a pipeline it waits for the next sync."""
        await self._ready()
        await self.conn.execute(sql, params)

    async def count(self, sql: bytes, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement and return how many rows it changed."""
        await self._ready()
        async with self.conn.cursor() as cursor:
            await cursor.execute(sql, params)
            return max(cursor.rowcount, 0)


class Transaction(Db):
    """BEGIN … COMMIT on an autocommit connection in pipeline mode (see the module docstring).

    After `commit()` a new transaction begins with the next statement; `close()` rolls back
    whatever was not committed. `bind()` scopes it to one tenant for row-level security
    (`SET LOCAL app.tenant_id`), again in every transaction that follows.
    """

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        super().__init__(conn)
        self._stack = AsyncExitStack()
        self._pipeline: psycopg.AsyncPipeline | None = None
        self._open = False
        self._now: psycopg.AsyncCursor[Any] | None = None
        self._tenant: str = ""

    async def start(self) -> None:
        self._pipeline = await self._stack.enter_async_context(self.conn.pipeline())
        await self._ready()

    async def _ready(self) -> None:
        if not self._open:
            await self.conn.execute(b"BEGIN")
            self._open = True
            if self._tenant:
                await self._tenant_statement(_BIND, {"tenant": self._tenant})

    async def _tenant_statement(self, sql: bytes, params: Mapping[str, Any]) -> None:
        # Binding statements also read now(): the transaction's clock rides along, queued and
        # read on demand, so it costs neither a command nor a round trip of its own.
        cursor = self.conn.cursor()
        await cursor.execute(sql, params)
        if self._now is None:
            self._now = cursor

    async def bind(self, tenant_id: UUID | None) -> None:
        """Scope this and the following transactions to one tenant (None: to none at all)."""
        tenant = "" if tenant_id is None else str(tenant_id)
        if tenant == self._tenant and self._open:
            return
        self._tenant = tenant
        if not self._open:
            await self._ready()  # BEGIN binds the remembered tenant
        else:
            await self._tenant_statement(_BIND, {"tenant": tenant})

    async def route(self, sql: bytes, params: Mapping[str, Any]) -> None:
        """Bind by a statement of the caller's (PgTenants.by_number); `bound()` records it."""
        await self._ready()
        await self._tenant_statement(sql, params)

    def bound(self, tenant_id: UUID | None) -> None:
        """Record which tenant a `route` statement bound (None: none)."""
        self._tenant = "" if tenant_id is None else str(tenant_id)

    async def now(self) -> Any:
        if self._now is None:  # nothing bound yet: ask
            await self._ready()
            self._now = self.conn.cursor()
            await self._now.execute(b"SELECT now(), ''")
        row = await self._now.fetchone()
        assert row is not None
        return row[0]

    async def commit(self) -> None:
        assert self._pipeline is not None, "transaction not started"
        await self.conn.execute(b"COMMIT")
        self._open = False
        await self._pipeline.sync()  # errors of the queued writes surface here

    async def close(self, *, failing: bool) -> None:
        """Roll back what is uncommitted and leave pipeline mode (errors only if not failing)."""
        self._pipeline = None
        try:
            if self._open:
                self._open = False
                await self.conn.execute(b"ROLLBACK")
            await self._stack.aclose()  # leaving pipeline mode syncs what is still queued
        except psycopg.Error:
            if not failing:
                raise
        finally:
            if self.conn.info.transaction_status != TransactionStatus.IDLE and not self.conn.closed:
                await self.conn.rollback()


@asynccontextmanager
async def autocommit(engine: AsyncEngine) -> AsyncIterator[Db]:
    """A pooled connection for single statements, each its own transaction (one round trip)."""
    async with engine.connect() as conn:
        yield Db(await driver(conn))
