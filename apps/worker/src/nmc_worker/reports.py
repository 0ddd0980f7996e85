"""Reports: the worker recomputes each tenant's recent days at start and then every hour.

Every run recomputes today so far and the three days before it in each tenant's zone (and any
earlier day whose episode got its reply in that window), so the nightly rule ("yesterday and the
two days before, each night in the tenant's zone") is met whatever the zone. A cancellation
recomputes its booking's day through its own event handler, however old that day is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import structlog

from nmc_domain.reporting.ports import ReportingUnitOfWorkFactory
from nmc_domain.reporting.use_cases import recompute_recent
from nmc_worker.worker import every

__all__ = ["Reports"]

log = structlog.get_logger("nmc.worker")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class Reports:
    """Recompute the recent days now and then every `every_seconds` until stopped."""

    new_uow: ReportingUnitOfWorkFactory
    every_seconds: float = 3600.0
    clock: Callable[[], datetime] = _utc_now

    async def recompute_once(self) -> int:
        return await recompute_recent(self.new_uow, self.clock())

    async def run(self, stop: asyncio.Event) -> None:
        await every(stop, self.every_seconds, self._round, failed="reports.failed")

    async def _round(self) -> None:
        log.info("reports.recomputed", rows=await self.recompute_once())
