"""The Jobber connection in memory, with the PostgreSQL adapters' semantics."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from nmc_adapters.memory.spec import require_tenant
from nmc_adapters.memory.tables import Key
from nmc_domain.scheduling.jobber import JOBBER, BlockChanges, JobberLink
from nmc_domain.scheduling.model import BusyBlock, Technician
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.ports import RowLock

__all__ = ["InMemoryJobberBlocks", "InMemoryJobberLinks"]

Views = dict[str, ChainMap[Any, Any]]


class InMemoryJobberLinks:
    """Links by tenant; the routing table is the links themselves (one per account)."""

    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[UUID, JobberLink | None] = views["jobber_links"]
        self._tenants = views["tenants"]

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> JobberLink | None:
        return self._rows.get(tenant_id)

    async def by_account(self, account_id: str) -> JobberLink | None:
        return next(
            (link for link in self._rows.values() if link and link.account_id == account_id),
            None,
        )

    async def save(self, link: JobberLink) -> None:
        require_tenant(self._tenants, link.tenant_id)
        holder = await self.by_account(link.account_id)
        if holder is not None and holder.tenant_id != link.tenant_id:
            raise Conflict("account_id", "connected to another business already")
        self._rows[link.tenant_id] = link

    async def delete(self, tenant_id: UUID) -> bool:
        if self._rows.get(tenant_id) is None:
            return False
        self._rows[tenant_id] = None  # staged deletion (see scheduling.repositories._delete)
        return True

    async def tenant_ids(self) -> Sequence[UUID]:
        return sorted(tenant for tenant, link in self._rows.items() if link is not None)

    async def lock_sync(self, tenant_id: UUID) -> None:
        # One event loop; use cases do not interleave inside a unit of work here.
        return None


class InMemoryJobberBlocks:
    """Blocks in the shared `busy_blocks` table; the visit -> job map in `jobber_visits`."""

    def __init__(self, views: Views) -> None:
        self._blocks: ChainMap[Key, BusyBlock | None] = views["busy_blocks"]
        self._technicians: ChainMap[Key, Technician] = views["technicians"]
        self._jobs: ChainMap[tuple[UUID, str], str | None] = views["jobber_visits"]

    def _ours(self, tenant_id: UUID) -> list[BusyBlock]:
        return [
            block
            for (tenant, _), block in self._blocks.items()
            if tenant == tenant_id and block is not None and block.source == JOBBER
        ]

    async def of_visits(self, tenant_id: UUID, visit_ids: Iterable[str]) -> Sequence[BusyBlock]:
        wanted = set(visit_ids)
        return [block for block in self._ours(tenant_id) if block.external_id in wanted]

    async def of_job(self, tenant_id: UUID, job_id: str) -> Sequence[BusyBlock]:
        visits = {
            visit
            for (tenant, visit), job in self._jobs.items()
            if tenant == tenant_id and job == job_id
        }
        return await self.of_visits(tenant_id, visits)

    async def between(self, tenant_id: UUID, start: datetime, end: datetime) -> Sequence[BusyBlock]:
        return [block for block in self._ours(tenant_id) if start <= block.start < end]

    async def apply(self, tenant_id: UUID, changes: BlockChanges) -> None:
        for block in changes.removed:
            self._blocks[tenant_id, block.id] = None
        for block in changes.moved:
            if self._blocks.get((tenant_id, block.id)) is not None:
                self._blocks[tenant_id, block.id] = block
        taken = {(b.technician_id, b.external_id) for b in self._ours(tenant_id)}
        for block in changes.added:
            if (tenant_id, block.technician_id) not in self._technicians:
                raise ValueError(f"no technician {block.technician_id} (foreign key violation)")
            if (block.technician_id, block.external_id) in taken:
                raise Conflict("external_id", "this event is stored already")
            self._blocks[tenant_id, block.id] = block
        for visit_id, job_id in changes.jobs.items():
            self._jobs[tenant_id, visit_id] = job_id
        for visit_id in changes.forgotten:
            if (tenant_id, visit_id) in self._jobs:
                self._jobs[tenant_id, visit_id] = None

    async def clear(self, tenant_id: UUID) -> int:
        ours = self._ours(tenant_id)
        for block in ours:
            self._blocks[tenant_id, block.id] = None
        for tenant, visit_id in list(self._jobs):
            if tenant == tenant_id:
                self._jobs[tenant, visit_id] = None
        return len(ours)
