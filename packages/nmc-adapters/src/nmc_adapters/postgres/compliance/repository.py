"""Compliance in PostgreSQL: the registration status, kept on the tenant's own row."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import bindparam, func, select, update

from nmc_adapters.postgres.queries import locks
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_adapters.postgres.tenancy.tables import tenants
from nmc_domain.compliance.model import Compliance
from nmc_domain.shared.ports import RowLock

__all__ = ["PgCompliance"]

ROWS = RowMapper(
    Compliance,
    rename={"tenant_id": "id", "status": "compliance_status", "reason": "compliance_reason"},
)
_GET = locks(
    select(tenants.c.id, tenants.c.compliance_status, tenants.c.compliance_reason).where(
        tenants.c.id == bindparam("id")
    )
)
_SAVE = compiled(
    update(tenants)
    .where(tenants.c.id == bindparam("id"))
    .values(
        compliance_status=bindparam("compliance_status"),
        compliance_reason=bindparam("compliance_reason"),
        updated_at=func.now(),
    )
)


class PgCompliance:
    """A tenant's status; the lock is on the tenant's row (what a send holds FOR SHARE)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Compliance | None:
        row = await self._db.one(_GET[lock], {"id": tenant_id})
        return None if row is None else ROWS.value(row)

    async def save(self, compliance: Compliance) -> None:
        await self._db.run(_SAVE, ROWS.row(compliance))
