"""Offered times re-checked against technicians' own calendars just before they are offered.

The shadow busy blocks are as fresh as the last sync; a technician whose Google Calendar was
last synced more than a minute ago gets one free/busy call covering all of their candidate
times, and the times it shows busy are not offered. Google failing (or a grant gone) changes
nothing: the times are offered from what is known, and the caller is told nothing of it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from nmc_domain.scheduling.availability import Slot
from nmc_domain.scheduling.google_notices import request_google_sync
from nmc_domain.scheduling.google_ports import CalendarProviderError, GoogleCalendarApi
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.secrets import SealBroken, Sealer

__all__ = ["CalendarCheck", "drop_externally_busy"]


@attrs.frozen
class CalendarCheck:
    """What re-checks offers against technicians' Google Calendars (None: nothing does)."""

    google: GoogleCalendarApi
    sealer: Sealer
    stale_after: timedelta = timedelta(minutes=1)
    # The caller is waiting for an answer: a slow Google is not waited for longer than this.
    timeout_seconds: float = 3.0


def _overlaps(slot: Slot, busy: Sequence[tuple[datetime, datetime]]) -> bool:
    return any(start < slot.end and slot.start < end for start, end in busy)


async def drop_externally_busy(
    uow: SchedulingUnitOfWork,
    check: CalendarCheck | None,
    tenant_id: UUID,
    slots: Sequence[Slot],
    now: datetime,
) -> tuple[Slot, ...]:
    """`slots` without those a stale-synced technician's calendar shows busy, in order."""
    if check is None or not slots:
        return tuple(slots)
    by_technician: dict[UUID, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_technician[slot.technician_id].append(slot)
    busy: dict[UUID, tuple[tuple[datetime, datetime], ...]] = {}
    for technician_id, theirs in by_technician.items():
        link = await uow.google_links.get(tenant_id, technician_id)
        if link is None or link.revoked_at is not None:
            continue
        if link.last_synced_at is not None and now - link.last_synced_at <= check.stale_after:
            continue
        try:
            async with asyncio.timeout(check.timeout_seconds):
                found = await check.google.free_busy(
                    check.sealer.unseal(link.refresh_token),
                    link.calendar_id,
                    min(slot.start for slot in theirs),
                    max(slot.end for slot in theirs),
                )
        except (CalendarProviderError, SealBroken, TimeoutError):
            continue  # offer from what we have
        busy[technician_id] = found
        if any(_overlaps(slot, found) for slot in theirs):
            # Our shadow rows missed something: the sync catches up (coalesced).
            await request_google_sync(uow, tenant_id, technician_id, "freebusy")
    return tuple(slot for slot in slots if not _overlaps(slot, busy.get(slot.technician_id, ())))
