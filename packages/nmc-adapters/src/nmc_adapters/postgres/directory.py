"""PostgreSQL repositories of the tenant API: users, catalog items, quotes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

import psycopg
from sqlalchemy import bindparam, func, insert, literal_column, select, tuple_, update

from nmc_adapters.postgres.rows import (
    ITEM_COLUMNS,
    USER_COLUMNS,
    item_from_row,
    item_row,
    user_from_row,
    user_row,
)
from nmc_adapters.postgres.sql import Db, compiled
from nmc_adapters.postgres.tables import catalog_items, quotes, users
from nmc_domain.errors import Conflict
from nmc_domain.model.catalog import ServiceItem
from nmc_domain.model.pages import PageKey
from nmc_domain.model.quotes import Quote
from nmc_domain.model.users import User
from nmc_domain.ports import RowLock

__all__ = ["PgCatalog", "PgQuotes", "PgUsers"]

# Which unique constraint a violation names -> the field a 409 should point at.
_CONFLICTS = {
    "users_one_per_subject": ("subject", "another user of this tenant has this subject"),
    "users_one_per_email": ("email", "another user of this tenant has this email"),
    "catalog_items_one_per_name": ("name", "another catalog item has this name"),
}


async def _write(db: Db, sql: bytes, params: Mapping[str, Any]) -> None:
    """Run a write now (not pipelined): a unique violation must surface as Conflict here."""
    try:
        await db.one(sql + b" RETURNING 1", params)
    except psycopg.errors.UniqueViolation as exc:
        field, reason = _CONFLICTS.get(exc.diag.constraint_name or "", ("id", "already exists"))
        raise Conflict(field, reason) from None


def _by_id(table: Any) -> dict[RowLock, bytes]:
    query = select(table).where(
        table.c.tenant_id == bindparam("tenant_id"), table.c.id == bindparam("id")
    )
    return {
        RowLock.NONE: compiled(query),
        RowLock.SHARE: compiled(query.with_for_update(read=True)),
        RowLock.UPDATE: compiled(query.with_for_update()),
    }


def _page(table: Any, sort: Any) -> tuple[bytes, bytes]:
    """(first page, page after a key) ordered by (sort, id)."""
    base = select(table).where(table.c.tenant_id == bindparam("tenant_id"))
    ordered = base.order_by(sort, table.c.id).limit(bindparam("limit"))
    after = tuple_(sort, table.c.id) > tuple_(bindparam("after_key"), bindparam("after_id"))
    return compiled(ordered), compiled(ordered.where(after))


async def _rows_page(
    db: Db, sql: tuple[bytes, bytes], tenant_id: UUID, after: PageKey | None, limit: int
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"tenant_id": tenant_id, "limit": limit}
    if after is None:
        return await db.all(sql[0], params)
    params |= {"after_key": after[0], "after_id": after[1]}
    return await db.all(sql[1], params)


_USER_INSERT = compiled(insert(users).values({c: bindparam(c) for c in USER_COLUMNS}))
_USER_GET = _by_id(users)
_USER_BY = {
    field: compiled(
        select(users).where(
            users.c.tenant_id == bindparam("tenant_id"), users.c[field] == bindparam("value")
        )
    )
    for field in ("subject", "email")
}
_USER_SAVE = compiled(
    update(users)
    .where(users.c.tenant_id == bindparam("tenant_id"), users.c.id == bindparam("id"))
    .values(
        {c: bindparam(c) for c in ("subject", "email", "role", "active")}
        | {"updated_at": func.now()}
    )
)
_USER_PAGE = _page(users, users.c.email)
# FOR UPDATE on the owners themselves: two concurrent deactivations cannot both see "2 left".
_ACTIVE_OWNERS = compiled(
    select(users.c.id)
    .where(
        users.c.tenant_id == bindparam("tenant_id"),
        users.c.role == literal_column("'OWNER'"),
        users.c.active.is_(True),
    )
    .with_for_update()
)


class PgUsers:
    """Users; unique subject and email per tenant are the database's to enforce."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, user: User) -> None:
        await _write(self._db, _USER_INSERT, user_row(user))

    async def get(
        self, tenant_id: UUID, user_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> User | None:
        row = await self._db.one(_USER_GET[lock], {"tenant_id": tenant_id, "id": user_id})
        return None if row is None else user_from_row(row)

    async def by_subject(self, tenant_id: UUID, subject: str) -> User | None:
        return await self._by("subject", tenant_id, subject)

    async def by_email(self, tenant_id: UUID, email: str) -> User | None:
        return await self._by("email", tenant_id, email)

    async def _by(self, field: str, tenant_id: UUID, value: str) -> User | None:
        row = await self._db.one(_USER_BY[field], {"tenant_id": tenant_id, "value": value})
        return None if row is None else user_from_row(row)

    async def save(self, user: User) -> None:
        await _write(self._db, _USER_SAVE, user_row(user))

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[User]:
        rows = await _rows_page(self._db, _USER_PAGE, tenant_id, after, limit)
        return [user_from_row(row) for row in rows]

    async def active_owners(self, tenant_id: UUID) -> int:
        return len(await self._db.all(_ACTIVE_OWNERS, {"tenant_id": tenant_id}))


_ITEM_INSERT = compiled(insert(catalog_items).values({c: bindparam(c) for c in ITEM_COLUMNS}))
_ITEM_GET = _by_id(catalog_items)
_ITEM_SAVE = compiled(
    update(catalog_items)
    .where(
        catalog_items.c.tenant_id == bindparam("tenant_id"),
        catalog_items.c.id == bindparam("id"),
    )
    .values(
        {c: bindparam(c) for c in ITEM_COLUMNS if c not in ("tenant_id", "id")}
        | {"updated_at": func.now()}
    )
)
_ITEM_PAGE = _page(catalog_items, catalog_items.c.name_key)
_ITEMS_ACTIVE = compiled(
    select(catalog_items)
    .where(
        catalog_items.c.tenant_id == bindparam("tenant_id"),
        catalog_items.c.active.is_(True),
    )
    .order_by(catalog_items.c.name_key, catalog_items.c.id)
)


class PgCatalog:
    """Service items; the case-insensitive unique name is `name_key`'s unique index."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, item: ServiceItem) -> None:
        await _write(self._db, _ITEM_INSERT, item_row(item))

    async def get(
        self, tenant_id: UUID, item_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> ServiceItem | None:
        row = await self._db.one(_ITEM_GET[lock], {"tenant_id": tenant_id, "id": item_id})
        return None if row is None else item_from_row(row)

    async def save(self, item: ServiceItem) -> None:
        await _write(self._db, _ITEM_SAVE, item_row(item))

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[ServiceItem]:
        rows = await _rows_page(self._db, _ITEM_PAGE, tenant_id, after, limit)
        return [item_from_row(row) for row in rows]

    async def active(self, tenant_id: UUID) -> Sequence[ServiceItem]:
        rows = await self._db.all(_ITEMS_ACTIVE, {"tenant_id": tenant_id})
        return [item_from_row(row) for row in rows]


_QUOTE_INSERT = compiled(
    insert(quotes).values(
        {
            c: bindparam(c)
            for c in ("tenant_id", "id", "item_id", "price_cents", "currency", "duration_minutes")
        }
    )
)


class PgQuotes:
    """Quotes are written once and never changed."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, tenant_id: UUID, quote_id: UUID, quote: Quote) -> None:
        row = {
            "tenant_id": tenant_id,
            "id": quote_id,
            "item_id": quote.item_id,
            "price_cents": quote.price_cents,
            "currency": quote.currency,
            "duration_minutes": quote.duration_minutes,
        }
        await self._db.run(_QUOTE_INSERT, row)
