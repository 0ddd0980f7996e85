"""Keeping a tenant's Jobber blocks in step with Jobber: one visit or job at a time (after a
webhook), or a whole window (after connecting, and every 15 minutes as the safety net).

Whatever a webhook said, the item is read from Jobber as it is now, and read and written
under the tenant's sync lock, so duplicated and reordered webhooks end in the same blocks. A
fetch that fails changes no block: a provider outage never deletes what we know. A poll
counts the rows it changed as drift: changes no webhook brought (their handlers run within
seconds, before the next poll).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.scheduling.events import JobberItemChanged
from nmc_domain.scheduling.jobber import (
    DRIFT_ALARM_STREAK,
    BlockChanges,
    JobberVisit,
    after_poll,
    after_sync_failure,
    poll_window,
    reconcile,
)
from nmc_domain.scheduling.jobber_access import JobberAccess, NotConnected
from nmc_domain.scheduling.jobber_connect import (
    APP_DISCONNECT,
    JobberSetup,
    SchedulingUnitOfWorkFactory,
)
from nmc_domain.scheduling.jobber_ports import JobberGrantRevoked, JobberProviderError, VisitsPage
from nmc_domain.scheduling.model import BusyBlock
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.errors import TenantNotFound
from nmc_domain.shared.ports import RowLock

__all__ = [
    "MAX_PAGES",
    "JobberSync",
    "SyncStatus",
    "jobber_tenants",
    "sync_jobber_item",
    "sync_jobber_window",
]

MAX_PAGES = 100  # 5,000 visits at 50 a page: more is not a calendar we can mirror


class SyncStatus(StrEnum):
    SYNCED = "synced"
    NOT_CONNECTED = "not_connected"
    RECONNECT_NEEDED = "reconnect_needed"
    DISCONNECTED = "disconnected"  # Jobber said the app was disconnected there


@attrs.frozen
class JobberSync:
    """How a sync ended: rows changed, and for a poll the drift it found."""

    status: SyncStatus
    changed: int = 0
    drift: int | None = None
    drift_streak: int = 0

    @property
    def drift_alarm(self) -> bool:
        """Drift in DRIFT_ALARM_STREAK polls in a row: webhooks are going missing."""
        return self.drift_streak >= DRIFT_ALARM_STREAK


_NOT_CONNECTED = JobberSync(SyncStatus.NOT_CONNECTED)
_RECONNECT = JobberSync(SyncStatus.RECONNECT_NEEDED)


async def _pages(
    fetch: Callable[[str | None], Awaitable[VisitsPage | None]],
) -> list[JobberVisit] | None:
    """Every page, or None when the first says the thing is gone; raises unless complete."""
    visits: list[JobberVisit] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await fetch(cursor)
        if page is None:
            return None
        visits.extend(page.visits)
        if page.next_cursor is None:
            return visits
        cursor = page.next_cursor
    raise JobberProviderError(f"more than {MAX_PAGES} pages of visits")


async def _zone(uow: SchedulingUnitOfWork, tenant_id: UUID) -> ZoneInfo:
    tenant = await uow.tenants.get(tenant_id)
    if tenant is None:
        raise TenantNotFound(tenant_id)
    return ZoneInfo(tenant.timezone)


async def _changes(
    uow: SchedulingUnitOfWork,
    tenant_id: UUID,
    current: Iterable[BusyBlock],
    visits: Sequence[JobberVisit],
    gone: Iterable[str] = (),
) -> BlockChanges:
    emails = {email.strip().lower() for visit in visits for email in visit.assignee_emails}
    found = await uow.technicians.by_emails(tenant_id, emails) if emails else ()
    technicians = {t.email: t.id for t in found if t.email is not None}
    unique = {block.id: block for block in current}.values()
    zone = await _zone(uow, tenant_id)
    return reconcile(tenant_id, unique, visits, technicians, zone, gone=gone)


async def _still_linked(uow: SchedulingUnitOfWork, tenant_id: UUID) -> bool:
    # A disconnect that committed meanwhile wins: what was read is not written back.
    return await uow.jobber_links.get(tenant_id, lock=RowLock.SHARE) is not None


async def sync_jobber_item(
    new_uow: SchedulingUnitOfWorkFactory, setup: JobberSetup, event: JobberItemChanged
) -> JobberSync:
    """Make the blocks of the visit (VISIT_*) or of every visit of the job (JOB_*) match
    Jobber now; APP_DISCONNECT forgets the link. JobberProviderError when Jobber fails (the
    outbox retries; nothing was changed)."""
    if event.topic == APP_DISCONNECT:
        return await _app_disconnected(new_uow, event)
    tenant_id, item_id = event.tenant_id, event.item_id
    access = JobberAccess(new_uow, setup, tenant_id)
    try:
        async with new_uow() as uow:
            await uow.bind_tenant(tenant_id)
            await uow.jobber_links.lock_sync(tenant_id)
            visits: Sequence[JobberVisit] | None
            if event.topic.startswith("VISIT_"):
                visit = None
                if event.topic != "VISIT_DESTROY":
                    visit = await access.call(lambda token: setup.api.visit(token, item_id))
                visits = () if visit is None else (visit,)
                current = [*await uow.jobber_blocks.of_visits(tenant_id, [item_id])]
                gone = [item_id] if visit is None else []
            else:
                visits = None
                if event.topic != "JOB_DESTROY":
                    visits = await _pages(
                        lambda cursor: access.call(
                            lambda token: setup.api.job_visits(token, item_id, cursor)
                        )
                    )
                visits, gone = visits or (), []
                current = [*await uow.jobber_blocks.of_job(tenant_id, item_id)]
                current += await uow.jobber_blocks.of_visits(tenant_id, [v.id for v in visits])
            changes = await _changes(uow, tenant_id, current, visits, gone)
            if not await _still_linked(uow, tenant_id):
                return _NOT_CONNECTED
            await uow.jobber_blocks.apply(tenant_id, changes)
            await uow.commit()
    except NotConnected:
        return _NOT_CONNECTED
    except JobberGrantRevoked:
        return _RECONNECT
    return JobberSync(SyncStatus.SYNCED, changed=changes.count)


async def _app_disconnected(
    new_uow: SchedulingUnitOfWorkFactory, event: JobberItemChanged
) -> JobberSync:
    async with new_uow() as uow:
        await uow.bind_tenant(event.tenant_id)
        link = await uow.jobber_links.get(event.tenant_id, lock=RowLock.UPDATE)
        if link is None:
            return _NOT_CONNECTED
        if link.connected_at > event.occurred_at:
            return JobberSync(SyncStatus.SYNCED)  # about a grant before this one
        cleared = await uow.jobber_blocks.clear(event.tenant_id)
        await uow.jobber_links.delete(event.tenant_id)
        await uow.commit()
    return JobberSync(SyncStatus.DISCONNECTED, changed=cleared)


async def sync_jobber_window(
    new_uow: SchedulingUnitOfWorkFactory,
    setup: JobberSetup,
    tenant_id: UUID,
    *,
    count_drift: bool = True,
) -> JobberSync:
    """Read every visit from yesterday to the end of the scheduling horizon and make the
    blocks in that window match, only once every page came; the rows changed are the drift
    (unless `count_drift` is False: the first sync after connecting). On a failed fetch the
    blocks stay as they were, the link records the error, and JobberProviderError is raised."""
    access = JobberAccess(new_uow, setup, tenant_id)
    try:
        async with new_uow() as uow:
            await uow.bind_tenant(tenant_id)
            link = await uow.jobber_links.get(tenant_id)
            if link is None:
                return _NOT_CONNECTED
            zone = await _zone(uow, tenant_id)
            horizon = (await uow.scheduling_settings.get(tenant_id)).horizon_days
            now = await uow.now()
            start, end = poll_window(now.astimezone(zone).date(), horizon, zone)
            await uow.jobber_links.lock_sync(tenant_id)
            try:
                visits = await _pages(
                    lambda cursor: access.call(
                        lambda token: setup.api.visits_between(token, start, end, cursor)
                    )
                )
            except JobberProviderError as exc:
                if not isinstance(exc, JobberGrantRevoked):
                    await _failed(uow, tenant_id, f"Jobber: {exc}")
                raise
            visits = visits or []
            current = [*await uow.jobber_blocks.between(tenant_id, start, end)]
            current += await uow.jobber_blocks.of_visits(tenant_id, [v.id for v in visits])
            changes = await _changes(uow, tenant_id, current, visits)
            fresh = await uow.jobber_links.get(tenant_id, lock=RowLock.UPDATE)
            if fresh is None:
                return _NOT_CONNECTED
            await uow.jobber_blocks.apply(tenant_id, changes)
            synced = after_poll(fresh, now, changes.count if count_drift else None)
            await uow.jobber_links.save(synced)
            await uow.commit()
    except NotConnected:
        return _NOT_CONNECTED
    except JobberGrantRevoked:
        return _RECONNECT
    return JobberSync(SyncStatus.SYNCED, changes.count, synced.drift_last, synced.drift_streak)


async def _failed(uow: SchedulingUnitOfWork, tenant_id: UUID, error: str) -> None:
    link = await uow.jobber_links.get(tenant_id, lock=RowLock.UPDATE)
    if link is not None:
        await uow.jobber_links.save(after_sync_failure(link, error))
        await uow.commit()


async def jobber_tenants(new_uow: SchedulingUnitOfWorkFactory) -> Sequence[UUID]:
    """Every tenant connected to Jobber (the poll syncs each)."""
    async with new_uow() as uow:
        return await uow.jobber_links.tenant_ids()
