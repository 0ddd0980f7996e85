"""Users in PostgreSQL: unique subject and email per tenant are the database's to enforce."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import psycopg
from sqlalchemy import bindparam, func, literal_column, select, update

from nmc_adapters.postgres.identity.tables import users
from nmc_adapters.postgres.queries import by_id, insert_of, page_queries, rows_page, write_now
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.identity.model import User
from nmc_domain.shared.errors import TenantNotFound
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = ["PgUsers"]

ROWS = RowMapper(User)
# Which unique constraint a violation names -> the field a 409 should point at.
_CONFLICTS = {
    "users_one_per_subject": ("subject", "another user of this tenant has this subject"),
    "users_one_per_email": ("email", "another user of this tenant has this email"),
}
_INSERT = insert_of(users, ROWS.columns)
_GET = by_id(users)
_BY = {
    field: compiled(
        select(users).where(
            users.c.tenant_id == bindparam("tenant_id"), users.c[field] == bindparam("value")
        )
    )
    for field in ("subject", "email")
}
_SAVE = compiled(
    update(users)
    .where(users.c.tenant_id == bindparam("tenant_id"), users.c.id == bindparam("id"))
    .values(
        {c: bindparam(c) for c in ("subject", "email", "role", "active")}
        | {"updated_at": func.now()}
    )
)
_PAGE = page_queries(users, users.c.email)
# Every active owner FOR UPDATE, in id order: changes that may remove an owner take these locks
# first and in one order, so two of them queue instead of deadlocking, and never both see "2".
_ACTIVE_OWNERS = compiled(
    select(users.c.id)
    .where(
        users.c.tenant_id == bindparam("tenant_id"),
        users.c.role == literal_column("'OWNER'"),
        users.c.active.is_(True),
    )
    .order_by(users.c.id)
    .with_for_update()
)


class PgUsers:
    """Users of the tenant the unit of work is bound to."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, user: User) -> None:
        try:
            await write_now(self._db, _INSERT, ROWS.row(user), _CONFLICTS)
        except psycopg.errors.ForeignKeyViolation:
            raise TenantNotFound(user.tenant_id) from None

    async def get(
        self, tenant_id: UUID, user_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> User | None:
        row = await self._db.one(_GET[lock], {"tenant_id": tenant_id, "id": user_id})
        return None if row is None else ROWS.value(row)

    async def by_subject(self, tenant_id: UUID, subject: str) -> User | None:
        return await self._by("subject", tenant_id, subject)

    async def by_email(self, tenant_id: UUID, email: str) -> User | None:
        return await self._by("email", tenant_id, email)

    async def _by(self, field: str, tenant_id: UUID, value: str) -> User | None:
        row = await self._db.one(_BY[field], {"tenant_id": tenant_id, "value": value})
        return None if row is None else ROWS.value(row)

    async def save(self, user: User) -> None:
        await write_now(self._db, _SAVE, ROWS.row(user), _CONFLICTS)

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[User]:
        rows = await rows_page(self._db, _PAGE, tenant_id, after, limit)
        return [ROWS.value(row) for row in rows]

    async def active_owners(self, tenant_id: UUID) -> int:
        return len(await self._db.all(_ACTIVE_OWNERS, {"tenant_id": tenant_id}))
