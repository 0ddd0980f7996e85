"""Jobber in the worker: the outbox handlers (a webhook's visit or job read from Jobber, the
first full sync after connecting) and the 15-minute poll, the safety net that counts drift."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from uuid import UUID

import attrs
import structlog

from nmc_domain.scheduling.events import JobberItemChanged, JobberSyncRequested
from nmc_domain.scheduling.jobber_connect import JobberSetup
from nmc_domain.scheduling.jobber_sync import (
    JobberSync,
    jobber_tenants,
    sync_jobber_item,
    sync_jobber_window,
)
from nmc_domain.shared.events import DomainEvent
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.dispatcher import Handler
from nmc_worker.worker import every

__all__ = ["PROVIDER", "JobberPoll", "jobber_handlers"]

log = structlog.get_logger("nmc.worker")
PROVIDER = "jobber"
# (provider, rows a poll changed that no webhook had announced, whether to warn)
DriftObserver = Callable[[str, int, bool], None]


def _no_drift_observer(provider: str, rows: int, warning: bool) -> None:
    return None


def jobber_handlers(
    new_uow: UnitOfWorkFactory, jobber: JobberSetup | None
) -> dict[type[DomainEvent], Handler]:
    """The Jobber events' handlers; without Jobber settings they fail (the rows are retried,
    then kept dead for `nmc replay` once the settings are fixed)."""

    def configured() -> JobberSetup:
        if jobber is None:
            raise RuntimeError("Jobber is not configured on this worker (NMC_JOBBER_*)")
        return jobber

    async def item_changed(event: DomainEvent) -> None:
        assert isinstance(event, JobberItemChanged)
        synced = await sync_jobber_item(new_uow, configured(), event)
        log.info(
            "calendar.jobber_item_synced",
            tenant_id=str(event.tenant_id),
            topic=event.topic,
            item_id=event.item_id,
            status=synced.status.value,
            changed=synced.changed,
        )

    async def sync_requested(event: DomainEvent) -> None:
        assert isinstance(event, JobberSyncRequested)
        synced = await sync_jobber_window(new_uow, configured(), event.tenant_id, count_drift=False)
        log.info(
            "calendar.jobber_synced",
            tenant_id=str(event.tenant_id),
            reason=event.reason,
            status=synced.status.value,
            changed=synced.changed,
        )

    return {JobberItemChanged: item_changed, JobberSyncRequested: sync_requested}


@attrs.frozen
class JobberPoll:
    """Every `every_seconds` (15 minutes): each connected tenant's window read from Jobber and
    reconciled; what it changed is drift (counted in /metrics, a warning after three polls in
    a row). One tenant's failure does not hold the others up."""

    new_uow: UnitOfWorkFactory
    jobber: JobberSetup
    every_seconds: float = 900.0
    drift: DriftObserver = _no_drift_observer

    async def poll_once(self) -> list[JobberSync]:
        """One round over every connected tenant; what each sync that ran returned."""
        return await self.poll_tenants(await jobber_tenants(self.new_uow))

    async def poll_tenants(self, tenant_ids: Iterable[UUID]) -> list[JobberSync]:
        results = []
        for tenant_id in tenant_ids:
            try:
                synced = await sync_jobber_window(self.new_uow, self.jobber, tenant_id)
            except Exception as exc:  # Jobber or the database: the next round tries again
                log.warning(
                    "calendar.jobber_poll_failed",
                    tenant_id=str(tenant_id),
                    error=f"{type(exc).__name__}: {exc}",
                )
                continue
            self._report(tenant_id, synced)
            results.append(synced)
        return results

    def _report(self, tenant_id: UUID, synced: JobberSync) -> None:
        log.info(
            "calendar.jobber_polled",
            tenant_id=str(tenant_id),
            status=synced.status.value,
            changed=synced.changed,
            drift=synced.drift,
        )
        if synced.drift is None:
            return
        self.drift(PROVIDER, synced.drift, synced.drift_alarm)
        if synced.drift_alarm:
            log.warning(
                "calendar.drift",
                provider=PROVIDER,
                tenant_id=str(tenant_id),
                rows=synced.drift,
                streak=synced.drift_streak,
            )

    async def _round(self) -> None:
        await self.poll_once()

    async def run(self, stop: asyncio.Event) -> None:
        await every(stop, self.every_seconds, self._round, failed="calendar.jobber_poll_failed")
