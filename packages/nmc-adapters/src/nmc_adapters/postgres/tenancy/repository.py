"""Tenants and their numbers in PostgreSQL; `by_number` is the webhook hot path."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.queries import insert_of, locks
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, Transaction, compiled
from nmc_adapters.postgres.tenancy.tables import phone_numbers, tenants
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.errors import NumberAlreadyTaken
from nmc_domain.tenancy.model import Tenant

__all__ = ["PgPhoneNumbers", "PgTenants"]

ROWS = RowMapper(Tenant)
_INSERT = insert_of(tenants, ROWS.columns)
_GET = locks(select(tenants).where(tenants.c.id == bindparam("id")))
# Routing happens before we know the tenant: bind the transaction to the number's tenant (or to
# none) from the routing table, which row-level security does not guard, then read the tenant.
_ROUTE = (
    b"SELECT now(), set_config('app.tenant_id', COALESCE((SELECT tenant_id::text "
    b"FROM phone_numbers WHERE e164 = %(number)s::text), ''), true)"
)
_BY_NUMBER = compiled(
    select(tenants)
    .join(phone_numbers, phone_numbers.c.tenant_id == tenants.c.id)
    .where(phone_numbers.c.e164 == bindparam("number"))
)
_SAVE = compiled(
    update(tenants)
    .where(tenants.c.id == bindparam("id"))
    .values({c: bindparam(c) for c in ROWS.columns if c != "id"} | {"updated_at": func.now()})
)


class PgTenants:
    """Tenants (their profile: compliance has its own repository over the same rows)."""

    def __init__(self, db: Transaction) -> None:
        self._db = db

    async def add(self, tenant: Tenant) -> None:
        await self._db.run(_INSERT, ROWS.row(tenant))

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None:
        row = await self._db.one(_GET[lock], {"id": tenant_id})
        return None if row is None else ROWS.value(row)

    async def by_number(self, number: str) -> Tenant | None:
        await self._db.route(_ROUTE, {"number": number})
        row = await self._db.one(_BY_NUMBER, {"number": number})
        tenant = None if row is None else ROWS.value(row)
        self._db.bound(None if tenant is None else tenant.id)
        return tenant

    async def save(self, tenant: Tenant) -> None:
        await self._db.run(_SAVE, ROWS.row(tenant))


_ASSIGN = compiled(
    pg_insert(phone_numbers)
    .values(e164=bindparam("number"), tenant_id=bindparam("tenant_id"))
    .on_conflict_do_nothing()
    .returning(phone_numbers.c.e164)
)
_OF_TENANT = compiled(
    select(phone_numbers.c.e164)
    .where(phone_numbers.c.tenant_id == bindparam("tenant_id"))
    .order_by(phone_numbers.c.e164)
)


class PgPhoneNumbers:
    """The routing table; a taken number is reported by the primary key, not a pre-check."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def assign(self, number: str, tenant_id: UUID) -> None:
        if await self._db.one(_ASSIGN, {"number": number, "tenant_id": tenant_id}) is None:
            raise NumberAlreadyTaken(number)

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]:
        rows = await self._db.all(_OF_TENANT, {"tenant_id": tenant_id})
        return [row["e164"] for row in rows]
