"""The Google Calendar links in memory: links, push channels and the shadow busy blocks, with
the PostgreSQL adapters' semantics (one shadow row per technician and external id)."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import attrs

from nmc_adapters.memory.spec import require_tenant
from nmc_domain.scheduling.google import GOOGLE, GoogleChannel, GoogleLink
from nmc_domain.scheduling.model import BusyBlock, Technician
from nmc_domain.shared.ports import RowLock

__all__ = ["InMemoryGoogleChannels", "InMemoryGoogleLinks", "InMemoryGoogleShadow"]

Views = dict[str, ChainMap[Any, Any]]
Key = tuple[UUID, UUID]


def _technician(
    technicians: ChainMap[Key, Technician], tenant_id: UUID, technician_id: UUID
) -> None:
    if technicians.get((tenant_id, technician_id)) is None:
        raise ValueError(f"no technician {technician_id} (foreign key violation)")


class InMemoryGoogleLinks:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[Key, GoogleLink | None] = views["google_links"]
        self._technicians: ChainMap[Key, Technician] = views["technicians"]
        self._tenants = views["tenants"]

    async def get(
        self, tenant_id: UUID, technician_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> GoogleLink | None:
        return self._rows.get((tenant_id, technician_id))

    async def save(self, link: GoogleLink) -> None:
        require_tenant(self._tenants, link.tenant_id)
        _technician(self._technicians, link.tenant_id, link.technician_id)
        self._rows[link.tenant_id, link.technician_id] = link

    async def delete(self, tenant_id: UUID, technician_id: UUID) -> bool:
        if self._rows.get((tenant_id, technician_id)) is None:
            return False
        self._rows[tenant_id, technician_id] = None  # staged deletion (see scheduling's _delete)
        return True

    async def of_tenant(self, tenant_id: UUID) -> Sequence[GoogleLink]:
        found = [
            link
            for (tenant, _), link in self._rows.items()
            if tenant == tenant_id and link is not None
        ]
        return sorted(found, key=lambda link: link.technician_id)


class InMemoryGoogleChannels:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[UUID, GoogleChannel] = views["google_channels"]
        self._technicians: ChainMap[Key, Technician] = views["technicians"]

    async def add(self, channel: GoogleChannel) -> None:
        _technician(self._technicians, channel.tenant_id, channel.technician_id)
        if channel.id in self._rows:
            raise ValueError(f"channel {channel.id} exists (primary key violation)")
        self._rows[channel.id] = channel

    async def save(self, channel: GoogleChannel) -> None:
        stored = self._rows.get(channel.id)
        if stored is not None:  # as the UPDATE: only what Google answered and the stop change
            self._rows[channel.id] = attrs.evolve(
                stored,
                resource_id=channel.resource_id,
                expires_at=channel.expires_at,
                stopped_at=channel.stopped_at,
            )

    async def get(self, channel_id: UUID) -> GoogleChannel | None:
        return self._rows.get(channel_id)

    async def live(self, tenant_id: UUID, technician_id: UUID) -> Sequence[GoogleChannel]:
        found = [
            channel
            for channel in self._rows.values()
            if (channel.tenant_id, channel.technician_id) == (tenant_id, technician_id)
            and channel.live
            and self._technicians.get((tenant_id, technician_id)) is not None
        ]
        return sorted(found, key=lambda channel: (channel.created_at, channel.id))

    async def tenant_ids(self) -> Sequence[UUID]:
        return sorted({channel.tenant_id for channel in self._rows.values() if channel.live})


class InMemoryGoogleShadow:
    def __init__(self, views: Views) -> None:
        self._rows: ChainMap[Key, BusyBlock | None] = views["busy_blocks"]
        self._technicians: ChainMap[Key, Technician] = views["technicians"]

    def _of(self, tenant_id: UUID, technician_id: UUID) -> list[BusyBlock]:
        return [
            block
            for block in self._rows.values()
            if block is not None
            and (block.tenant_id, block.technician_id) == (tenant_id, technician_id)
            and block.source == GOOGLE
        ]

    async def of(self, tenant_id: UUID, technician_id: UUID) -> Sequence[BusyBlock]:
        return sorted(self._of(tenant_id, technician_id), key=lambda block: block.external_id or "")

    async def put(self, blocks: Sequence[BusyBlock]) -> None:
        for block in blocks:
            if block.source != GOOGLE or block.external_id is None:
                raise ValueError("a shadow block has source 'google' and an external id")
            _technician(self._technicians, block.tenant_id, block.technician_id)
            same = [
                other
                for other in self._of(block.tenant_id, block.technician_id)
                if other.external_id == block.external_id
            ]
            if same:  # ON CONFLICT: the stored row moves, keeping its id
                block = attrs.evolve(same[0], start=block.start, end=block.end)
            self._rows[block.tenant_id, block.id] = block

    async def remove(
        self, tenant_id: UUID, technician_id: UUID, external_ids: Sequence[str]
    ) -> int:
        wanted = set(external_ids)
        gone = [b for b in self._of(tenant_id, technician_id) if b.external_id in wanted]
        for block in gone:
            self._rows[block.tenant_id, block.id] = None
        return len(gone)

    async def clear(self, tenant_id: UUID, technician_id: UUID) -> int:
        gone = self._of(tenant_id, technician_id)
        for block in gone:
            self._rows[block.tenant_id, block.id] = None
        return len(gone)
