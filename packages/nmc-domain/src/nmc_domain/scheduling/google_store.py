"""Ports of the Google Calendar links: the links, their push channels, and the shadow busy
blocks the inbound sync writes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from nmc_domain.scheduling.google import GoogleChannel, GoogleLink
from nmc_domain.scheduling.model import BusyBlock
from nmc_domain.shared.ports import RowLock

__all__ = ["GoogleChannelRepository", "GoogleLinkRepository", "GoogleShadowRepository"]


class GoogleLinkRepository(Protocol):
    """One link per technician (`google_links`); gone with its technician."""

    async def get(
        self, tenant_id: UUID, technician_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> GoogleLink | None: ...

    async def save(self, link: GoogleLink) -> None:
        """Insert or replace the technician's link."""
        ...

    async def delete(self, tenant_id: UUID, technician_id: UUID) -> bool:
        """True when there was one."""
        ...

    async def of_tenant(self, tenant_id: UUID) -> Sequence[GoogleLink]:
        """The tenant's links, by technician id."""
        ...


class GoogleChannelRepository(Protocol):
    """Push channels (`google_channels`), found by id before any tenant is known: the
    webhook knows only Google's headers (a system table, as phone numbers are)."""

    async def add(self, channel: GoogleChannel) -> None: ...

    async def save(self, channel: GoogleChannel) -> None:
        """Store an existing channel's resource id, expiry and stop."""
        ...

    async def get(self, channel_id: UUID) -> GoogleChannel | None:
        """The channel, whichever tenant's."""
        ...

    async def live(self, tenant_id: UUID, technician_id: UUID) -> Sequence[GoogleChannel]:
        """The technician's channels not stopped, oldest first."""
        ...

    async def tenant_ids(self) -> Sequence[UUID]:
        """Every tenant with a channel not stopped (each link keeps one): whom the periodic
        poll visits."""
        ...


class GoogleShadowRepository(Protocol):
    """One technician's busy blocks with `source = google`, by external id (the event's)."""

    async def of(self, tenant_id: UUID, technician_id: UUID) -> Sequence[BusyBlock]:
        """Every shadow row of the technician."""
        ...

    async def put(self, blocks: Sequence[BusyBlock]) -> None:
        """Insert each block, or move the row with its (technician, source, external id)."""
        ...

    async def remove(
        self, tenant_id: UUID, technician_id: UUID, external_ids: Sequence[str]
    ) -> int:
        """Delete these shadow rows; how many there were."""
        ...

    async def clear(self, tenant_id: UUID, technician_id: UUID) -> int:
        """Delete every shadow row of the technician; how many there were."""
        ...
