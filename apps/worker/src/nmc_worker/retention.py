"""Retention: the worker deletes finished outbox rows and stored webhooks past their days."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import structlog

from nmc_domain.shared.ports import OutboxAdmin
from nmc_worker.worker import every

__all__ = ["Retention"]

log = structlog.get_logger("nmc.worker")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class Retention:
    """Every `every_seconds`, purge in batches of `batch` (each its own short statement, so
    the claim never waits long), pausing `pause_seconds` between batches."""

    admin: OutboxAdmin
    keep_days: float = 30.0
    every_seconds: float = 3600.0
    batch: int = 500
    pause_seconds: float = 0.05
    clock: Callable[[], datetime] = _utc_now

    async def purge_once(self) -> tuple[int, int]:
        """Purge everything past retention now; returns (outbox rows, webhook events)."""
        before = self.clock() - timedelta(days=self.keep_days)
        outbox = webhooks = 0
        while True:
            purged = await self.admin.purge(before, batch=self.batch)
            outbox += purged.outbox_rows
            webhooks += purged.webhook_events
            if max(purged.outbox_rows, purged.webhook_events) < self.batch:
                return outbox, webhooks
            await asyncio.sleep(self.pause_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        """Purge now and then every `every_seconds` until `stop` (errors are logged, retried)."""
        await every(stop, self.every_seconds, self._round, failed="retention.failed")

    async def _round(self) -> None:
        outbox, webhooks = await self.purge_once()
        if outbox or webhooks:
            log.info("retention.purged", outbox_rows=outbox, webhook_events=webhooks)
