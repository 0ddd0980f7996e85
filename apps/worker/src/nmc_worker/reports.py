"""Reports: the worker recomputes each tenant's recent days at start and then every hour.

Every run recomputes today so far and the three days before it in each tenant's zone, so the
nightly rule ("yesterday and the two days before, each night in the tenant's zone") is met
whatever the zone, and a late event (a booking, a cancellation, a text-back accepted late)
reaches its own day within the hour without an event handler of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import attrs
import structlog

from nmc_domain.reporting.ports import ReportingUnitOfWorkFactory
from nmc_domain.reporting.use_cases import recompute_recent

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
        while not stop.is_set():
            try:
                rows = await self.recompute_once()
                log.info("reports.recomputed", rows=rows)
            except Exception as exc:  # the database may be away; the next round tries again
                log.error("reports.failed", error=f"{type(exc).__name__}: {exc}")
            try:
                await asyncio.wait_for(stop.wait(), self.every_seconds)
            except TimeoutError:
                continue
