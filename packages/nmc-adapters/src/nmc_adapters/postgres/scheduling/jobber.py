"""The Jobber connection in PostgreSQL: links with their routing rows, and the busy blocks
(`source = jobber`) with the visit -> job map."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import Text, bindparam, delete, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.queries import insert_of, locks, write_now
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.scheduling.jobber_tables import (
    jobber_accounts,
    jobber_links,
    jobber_visits,
)
from nmc_adapters.postgres.scheduling.repository import BLOCKS
from nmc_adapters.postgres.scheduling.tables import busy_blocks
from nmc_adapters.postgres.sql import Transaction, compiled
from nmc_domain.scheduling.jobber import JOBBER, BlockChanges, JobberLink
from nmc_domain.scheduling.model import BusyBlock
from nmc_domain.shared.ports import RowLock

__all__ = ["PgJobberBlocks", "PgJobberLinks"]

LINKS = RowMapper(JobberLink)
_GET = locks(select(jobber_links).where(jobber_links.c.tenant_id == bindparam("tenant_id")))
_SAVE = compiled(
    pg_insert(jobber_links)
    .values({c: bindparam(c) for c in LINKS.columns})
    .on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={c: bindparam(c) for c in LINKS.columns if c != "tenant_id"}
        | {"updated_at": func.now()},
    )
)
_CONFLICTS = {
    "jobber_links_one_per_account": ("account_id", "connected to another business already")
}
_ROUTE_SAVE = compiled(
    pg_insert(jobber_accounts)
    .values(account_id=bindparam("account_id"), tenant_id=bindparam("tenant_id"))
    .on_conflict_do_update(
        index_elements=["tenant_id"], set_={"account_id": bindparam("account_id")}
    )
)
# Jobber's webhooks name the account: bind the transaction to its tenant (or to none) from the
# routing table, which row-level security does not guard, then read the link as that tenant.
_ROUTE = (
    b"SELECT now(), set_config('app.tenant_id', COALESCE((SELECT tenant_id::text "
    b"FROM jobber_accounts WHERE account_id = %(account_id)s::text), ''), true)"
)
_BY_ACCOUNT = compiled(
    select(jobber_links).where(jobber_links.c.account_id == bindparam("account_id"))
)
_DELETE = compiled(
    delete(jobber_links)
    .where(jobber_links.c.tenant_id == bindparam("tenant_id"))
    .returning(jobber_links.c.tenant_id)
)
_ROUTE_DELETE = compiled(
    delete(jobber_accounts).where(jobber_accounts.c.tenant_id == bindparam("tenant_id"))
)
_TENANTS = compiled(select(jobber_accounts.c.tenant_id).order_by(jobber_accounts.c.tenant_id))
_SYNC_LOCK = b"SELECT pg_advisory_xact_lock(hashtextextended(%(key)s::text, 0))"


class PgJobberLinks:
    """`jobber_links` and its routing rows (`jobber_accounts`), written together."""

    def __init__(self, db: Transaction) -> None:
        self._db = db

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> JobberLink | None:
        row = await self._db.one(_GET[lock], {"tenant_id": tenant_id})
        return None if row is None else LINKS.value(row)

    async def by_account(self, account_id: str) -> JobberLink | None:
        await self._db.route(_ROUTE, {"account_id": account_id})
        row = await self._db.one(_BY_ACCOUNT, {"account_id": account_id})
        found = None if row is None else LINKS.value(row)
        self._db.bound(None if found is None else found.tenant_id)
        return found

    async def save(self, link: JobberLink) -> None:
        await write_now(self._db, _SAVE, LINKS.row(link), _CONFLICTS)
        route = {"account_id": link.account_id, "tenant_id": link.tenant_id}
        await self._db.run(_ROUTE_SAVE, route)

    async def delete(self, tenant_id: UUID) -> bool:
        found = await self._db.one(_DELETE, {"tenant_id": tenant_id})
        await self._db.run(_ROUTE_DELETE, {"tenant_id": tenant_id})
        return found is not None

    async def tenant_ids(self) -> Sequence[UUID]:
        return [row["tenant_id"] for row in await self._db.all(_TENANTS)]

    async def lock_sync(self, tenant_id: UUID) -> None:
        await self._db.one(_SYNC_LOCK, {"key": f"jobber-sync:{tenant_id}"})


_OURS = (busy_blocks.c.tenant_id == bindparam("tenant_id")) & (
    busy_blocks.c.source == literal_column(f"'{JOBBER}'")
)
_OF_VISITS = compiled(
    select(busy_blocks).where(
        _OURS, busy_blocks.c.external_id == func.any(bindparam("ids", type_=ARRAY(Text)))
    )
)
_OF_JOB = compiled(
    select(busy_blocks).where(
        _OURS,
        busy_blocks.c.external_id.in_(
            select(jobber_visits.c.visit_id).where(
                jobber_visits.c.tenant_id == bindparam("tenant_id"),
                jobber_visits.c.job_id == bindparam("job_id"),
            )
        ),
    )
)
_BETWEEN = compiled(
    select(busy_blocks).where(
        _OURS,
        busy_blocks.c.start_at >= bindparam("start"),
        busy_blocks.c.start_at < bindparam("end"),
    )
)
_INSERT = insert_of(busy_blocks, BLOCKS.columns)
_BLOCK_CONFLICTS = {"busy_blocks_one_per_event": ("external_id", "this visit is stored already")}
_MOVE = compiled(
    update(busy_blocks)
    .where(busy_blocks.c.tenant_id == bindparam("tenant_id"), busy_blocks.c.id == bindparam("id"))
    .values(start_at=bindparam("start_at"), end_at=bindparam("end_at"))
)
_UUIDS = ARRAY(PgUUID(as_uuid=True))
_REMOVE = compiled(
    delete(busy_blocks).where(_OURS, busy_blocks.c.id == func.any(bindparam("ids", type_=_UUIDS)))
)
_REMEMBER = compiled(
    pg_insert(jobber_visits)
    .values(
        tenant_id=bindparam("tenant_id"), visit_id=bindparam("visit_id"), job_id=bindparam("job_id")
    )
    .on_conflict_do_update(
        index_elements=["tenant_id", "visit_id"], set_={"job_id": bindparam("job_id")}
    )
)
_FORGET = compiled(
    delete(jobber_visits).where(
        jobber_visits.c.tenant_id == bindparam("tenant_id"),
        jobber_visits.c.visit_id == func.any(bindparam("ids", type_=ARRAY(Text))),
    )
)
_CLEAR = compiled(delete(busy_blocks).where(_OURS).returning(busy_blocks.c.id))
_CLEAR_VISITS = compiled(
    delete(jobber_visits).where(jobber_visits.c.tenant_id == bindparam("tenant_id"))
)


class PgJobberBlocks:
    """Busy blocks with source 'jobber', and `jobber_visits`."""

    def __init__(self, db: Transaction) -> None:
        self._db = db

    async def _blocks(self, sql: bytes, **params: object) -> list[BusyBlock]:
        return [BLOCKS.value(row) for row in await self._db.all(sql, params)]

    async def of_visits(self, tenant_id: UUID, visit_ids: Iterable[str]) -> Sequence[BusyBlock]:
        ids = sorted(set(visit_ids))
        return await self._blocks(_OF_VISITS, tenant_id=tenant_id, ids=ids) if ids else []

    async def of_job(self, tenant_id: UUID, job_id: str) -> Sequence[BusyBlock]:
        return await self._blocks(_OF_JOB, tenant_id=tenant_id, job_id=job_id)

    async def between(self, tenant_id: UUID, start: datetime, end: datetime) -> Sequence[BusyBlock]:
        return await self._blocks(_BETWEEN, tenant_id=tenant_id, start=start, end=end)

    async def apply(self, tenant_id: UUID, changes: BlockChanges) -> None:
        # Deletes and moves are queued in the pipeline: they leave together with the COMMIT.
        if changes.removed:
            ids = [block.id for block in changes.removed]
            await self._db.run(_REMOVE, {"tenant_id": tenant_id, "ids": ids})
        for block in changes.moved:
            await self._db.run(_MOVE, BLOCKS.row(block))
        for block in changes.added:  # at once: a block stored already is a Conflict here
            await write_now(self._db, _INSERT, BLOCKS.row(block), _BLOCK_CONFLICTS)
        for visit_id, job_id in sorted(changes.jobs.items()):
            params = {"tenant_id": tenant_id, "visit_id": visit_id, "job_id": job_id}
            await self._db.run(_REMEMBER, params)
        if changes.forgotten:
            params = {"tenant_id": tenant_id, "ids": sorted(changes.forgotten)}
            await self._db.run(_FORGET, params)

    async def clear(self, tenant_id: UUID) -> int:
        cleared = await self._db.all(_CLEAR, {"tenant_id": tenant_id})
        await self._db.run(_CLEAR_VISITS, {"tenant_id": tenant_id})
        return len(cleared)
