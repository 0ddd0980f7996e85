"""The catalog in PostgreSQL: the case-insensitive unique name is `name_key`'s unique index."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import bindparam, func, select, update

from nmc_adapters.postgres.catalog.tables import catalog_items, quotes
from nmc_adapters.postgres.queries import by_id, insert_of, page_queries, rows_page, write_now
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.catalog.model import ServiceItem, name_key
from nmc_domain.catalog.quotes import Quote
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = ["PgCatalog", "PgQuotes"]

ITEMS = RowMapper(ServiceItem, extra={"name_key": lambda item: name_key(item.name)})
_CONFLICTS = {"catalog_items_one_per_name": ("name", "another catalog item has this name")}
_INSERT = insert_of(catalog_items, ITEMS.columns)
_GET = by_id(catalog_items)
_SAVE = compiled(
    update(catalog_items)
    .where(
        catalog_items.c.tenant_id == bindparam("tenant_id"),
        catalog_items.c.id == bindparam("id"),
    )
    .values(
        {c: bindparam(c) for c in ITEMS.columns if c not in ("tenant_id", "id")}
        | {"updated_at": func.now()}
    )
)
_PAGE = page_queries(catalog_items, catalog_items.c.name_key)
_ACTIVE = compiled(
    select(catalog_items)
    .where(
        catalog_items.c.tenant_id == bindparam("tenant_id"),
        catalog_items.c.active.is_(True),
    )
    .order_by(catalog_items.c.name_key, catalog_items.c.id)
)


class PgCatalog:
    """Service items of the tenant the unit of work is bound to."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, item: ServiceItem) -> None:
        await write_now(self._db, _INSERT, ITEMS.row(item), _CONFLICTS)

    async def get(
        self, tenant_id: UUID, item_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> ServiceItem | None:
        row = await self._db.one(_GET[lock], {"tenant_id": tenant_id, "id": item_id})
        return None if row is None else ITEMS.value(row)

    async def save(self, item: ServiceItem) -> None:
        await write_now(self._db, _SAVE, ITEMS.row(item), _CONFLICTS)

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[ServiceItem]:
        rows = await rows_page(self._db, _PAGE, tenant_id, after, limit)
        return [ITEMS.value(row) for row in rows]

    async def active(self, tenant_id: UUID) -> Sequence[ServiceItem]:
        rows = await self._db.all(_ACTIVE, {"tenant_id": tenant_id})
        return [ITEMS.value(row) for row in rows]


QUOTES = RowMapper(Quote)
_QUOTE_INSERT = insert_of(quotes, ("tenant_id", "id", *QUOTES.columns))


class PgQuotes:
    """Quotes are written once and never changed."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, tenant_id: UUID, quote_id: UUID, quote: Quote) -> None:
        row = QUOTES.row(quote) | {"tenant_id": tenant_id, "id": quote_id}
        await self._db.run(_QUOTE_INSERT, row)
