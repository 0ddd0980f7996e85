"""Compliance in PostgreSQL: the registration status, kept on the tenant's own row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.compliance.tables import contacts, opt_outs
from nmc_adapters.postgres.queries import insert_of, locks
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.sql import Db, compiled
from nmc_adapters.postgres.tenancy.tables import tenants
from nmc_domain.compliance.contacts import Contact, LedgerEntry
from nmc_domain.compliance.model import Compliance
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = ["PgCompliance", "PgContacts", "PgOptOuts"]

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


CONTACTS = RowMapper(Contact)
_CONTACT_GET = locks(
    select(contacts).where(
        contacts.c.tenant_id == bindparam("tenant_id"), contacts.c.phone == bindparam("phone")
    )
)
_CONTACT_LOCK = {
    RowLock.SHARE: b"SELECT pg_advisory_xact_lock_shared(hashtextextended(%(key)s::text, 0))",
    RowLock.UPDATE: b"SELECT pg_advisory_xact_lock(hashtextextended(%(key)s::text, 0))",
}
_CONTACT_SAVE = compiled(
    pg_insert(contacts)
    .values({c: bindparam(c) for c in CONTACTS.columns})
    .on_conflict_do_update(
        index_elements=["tenant_id", "phone"],
        set_={c: bindparam(c) for c in CONTACTS.columns if c not in ("tenant_id", "phone")}
        | {"updated_at": func.now()},
    )
)


class PgContacts:
    """Each number's state. The lock is a transaction-level advisory lock on (tenant, number),
    shared for SHARE and exclusive for UPDATE: most numbers never get a row (nobody opted out),
    and a send's shared lock then writes nothing at all."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, tenant_id: UUID, phone: str, *, lock: RowLock = RowLock.NONE) -> Contact:
        params = {"tenant_id": tenant_id, "phone": phone, "key": f"contact:{tenant_id}:{phone}"}
        if lock is not RowLock.NONE:
            await self._db.run(_CONTACT_LOCK[lock], params)
        row = await self._db.one(_CONTACT_GET[RowLock.NONE], params)
        return Contact(tenant_id, phone) if row is None else CONTACTS.value(row)

    async def save(self, contact: Contact) -> None:
        await self._db.run(_CONTACT_SAVE, CONTACTS.row(contact))


LEDGER = RowMapper(LedgerEntry)
_LEDGER_INSERT = insert_of(opt_outs, LEDGER.columns)
_LEDGER_FIRST = compiled(
    select(opt_outs)
    .where(opt_outs.c.tenant_id == bindparam("tenant_id"))
    .order_by(opt_outs.c.occurred_at.desc(), opt_outs.c.id.desc())
    .limit(bindparam("limit"))
)
_LEDGER_AFTER = compiled(
    select(opt_outs)
    .where(
        opt_outs.c.tenant_id == bindparam("tenant_id"),
        tuple_(opt_outs.c.occurred_at, opt_outs.c.id)
        < tuple_(bindparam("after_key"), bindparam("after_id")),
    )
    .order_by(opt_outs.c.occurred_at.desc(), opt_outs.c.id.desc())
    .limit(bindparam("limit"))
)


class PgOptOuts:
    """The ledger: inserts only."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def append(self, entry: LedgerEntry) -> None:
        await self._db.run(_LEDGER_INSERT, LEDGER.row(entry))

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[LedgerEntry]:
        params: dict[str, Any] = {"tenant_id": tenant_id, "limit": limit}
        if after is None:
            rows = await self._db.all(_LEDGER_FIRST, params)
        else:
            params |= {"after_key": datetime.fromisoformat(after[0]), "after_id": after[1]}
            rows = await self._db.all(_LEDGER_AFTER, params)
        return [LEDGER.value(row) for row in rows]
