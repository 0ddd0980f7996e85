"""The outbox's backlog, read at scrape time for the metrics: pending rows and the oldest wait."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres.sql import autocommit
from nmc_adapters.wire import TOPICS

__all__ = ["OutboxStats", "outbox_stats"]

# Pending counts every row not yet dispatched (timers set for later and rows backing off
# too). The wait is measured on due rows from their due time: an idle check set a day ahead,
# a row in backoff or one claimed right now (its lease pushes available_at ahead) is not late.
_STATS = b"""
    SELECT topic, count(*) AS pending,
           COALESCE(EXTRACT(EPOCH FROM now() - min(available_at)
                            FILTER (WHERE available_at <= now())), 0)::double precision AS waited
    FROM outbox_events
    WHERE dispatched_at IS NULL AND dead_at IS NULL AND needs_review_at IS NULL
    GROUP BY topic
    """


@attrs.frozen
class OutboxStats:
    """Pending rows by topic (every known topic, 0 when none) and the oldest due row's wait."""

    pending: Mapping[str, int]
    oldest_pending_age_seconds: float


async def outbox_stats(engine: AsyncEngine) -> OutboxStats:
    """Read the backlog: one small statement on a pooled connection, all tenants."""
    async with autocommit(engine) as db:
        rows = await db.all(_STATS)
    pending = dict.fromkeys(TOPICS, 0)
    pending.update({row["topic"]: row["pending"] for row in rows})
    waited = max((row["waited"] for row in rows), default=0.0)
    return OutboxStats(pending=pending, oldest_pending_age_seconds=max(waited, 0.0))
