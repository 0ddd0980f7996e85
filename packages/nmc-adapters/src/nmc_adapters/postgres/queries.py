"""Statement builders every context's repositories use (compiled once, at import)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import Table, bindparam, insert, select, tuple_
from sqlalchemy.sql import ColumnElement, Select

from nmc_adapters.postgres.sql import Db, Row, compiled
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.ports import RowLock

__all__ = ["by_id", "insert_of", "locks", "page_queries", "rows_page", "write_now"]


def insert_of(table: Table, columns: Iterable[str]) -> bytes:
    """INSERT of exactly these columns, each bound by name."""
    return compiled(insert(table).values({c: bindparam(c) for c in columns}))


def locks(query: Select[Any]) -> dict[RowLock, bytes]:
    """The query as it is, FOR SHARE and FOR UPDATE."""
    return {
        RowLock.NONE: compiled(query),
        RowLock.SHARE: compiled(query.with_for_update(read=True)),
        RowLock.UPDATE: compiled(query.with_for_update()),
    }


def by_id(table: Table) -> dict[RowLock, bytes]:
    """One row by (tenant_id, id), in each lock mode."""
    return locks(
        select(table).where(
            table.c.tenant_id == bindparam("tenant_id"), table.c.id == bindparam("id")
        )
    )


def page_queries(table: Table, sort: ColumnElement[Any]) -> tuple[bytes, bytes]:
    """(first page, page after a key) of a tenant's rows ordered by (sort, id)."""
    base = select(table).where(table.c.tenant_id == bindparam("tenant_id"))
    ordered = base.order_by(sort, table.c.id).limit(bindparam("limit"))
    after = tuple_(sort, table.c.id) > tuple_(bindparam("after_key"), bindparam("after_id"))
    return compiled(ordered), compiled(ordered.where(after))


async def rows_page(
    db: Db, sql: tuple[bytes, bytes], tenant_id: UUID, after: tuple[Any, UUID] | None, limit: int
) -> list[Row]:
    """A page of rows after (sort value, id); the sort value as the column's own type."""
    params: dict[str, Any] = {"tenant_id": tenant_id, "limit": limit}
    if after is None:
        return await db.all(sql[0], params)
    params |= {"after_key": after[0], "after_id": after[1]}
    return await db.all(sql[1], params)


async def write_now(
    db: Db,
    sql: bytes,
    params: Mapping[str, Any],
    conflicts: Mapping[str, tuple[str, str]],
) -> None:
    """Run a write at once (not pipelined), so a unique violation surfaces here as Conflict.

    `conflicts` maps a unique constraint's name to the (field, reason) the 409 names.
    """
    try:
        await db.one(sql + b" RETURNING 1", params)
    except psycopg.errors.UniqueViolation as exc:
        field, reason = conflicts.get(exc.diag.constraint_name or "", ("id", "already exists"))
        raise Conflict(field, reason) from None
