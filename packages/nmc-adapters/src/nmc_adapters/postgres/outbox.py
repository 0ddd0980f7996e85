"""The outbox in PostgreSQL: written in the business transaction, claimed with SKIP LOCKED."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import psycopg
import structlog
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from nmc_adapters.postgres.tables import outbox_events
from nmc_adapters.wire import UnknownTopic, decode_event, encode_event
from nmc_domain.events import DomainEvent
from nmc_domain.ports import OutboxItem

__all__ = ["CHANNEL", "PgOutbox", "PgOutboxQueue", "PgWakeups"]

CHANNEL = "nmc_outbox"  # the insert trigger NOTIFYs this channel (migration 0001)
log = structlog.get_logger("nmc.outbox")

# Claim due rows in id order; SKIP LOCKED lets several workers claim disjoint batches, and the
# lease (available_at pushed forward) hides a claimed row until it is finished or the worker
# that holds it has died — without keeping a transaction open during the provider call.
_CLAIM = text(
    """
    WITH due AS (
        SELECT id FROM outbox_events
        WHERE dispatched_at IS NULL AND dead_at IS NULL AND available_at <= now()
        ORDER BY id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox_events AS o
    SET available_at = now() + make_interval(secs => :lease)
    FROM due WHERE o.id = due.id
    RETURNING o.id, o.topic, o.payload, o.attempts
    """
)
_COMPLETE = text("UPDATE outbox_events SET dispatched_at = now() WHERE id = :id")
_RETRY = text(
    """
    UPDATE outbox_events
    SET attempts = attempts + 1, last_error = :error,
        available_at = now() + make_interval(secs => :delay)
    WHERE id = :id
    """
)
_BURY = text(
    """
    UPDATE outbox_events SET attempts = attempts + 1, last_error = :error, dead_at = now()
    WHERE id = :id
    """
)


class PgOutbox:
    """Producer side, bound to the unit of work's connection (same transaction)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, event: DomainEvent) -> None:
        topic, version, payload = encode_event(event)
        row = {
            "tenant_id": event.tenant_id,
            "topic": topic,
            "payload": payload,
            "schema_version": version,
        }
        await self._conn.execute(insert(outbox_events).values(row))


class PgOutboxQueue:
    """Consumer side: each call is its own short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[OutboxItem]:
        async with self._engine.begin() as conn:
            rows = await conn.execute(_CLAIM, {"limit": limit, "lease": float(lease_seconds)})
            items = [_item(row.id, row.topic, row.payload, row.attempts) for row in rows]
        return sorted(items, key=lambda item: item.id)

    async def complete(self, item_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_COMPLETE, {"id": item_id})

    async def retry(self, item_id: int, error: str, delay_seconds: float) -> None:
        params = {"id": item_id, "error": error[:2000], "delay": float(delay_seconds)}
        async with self._engine.begin() as conn:
            await conn.execute(_RETRY, params)

    async def bury(self, item_id: int, error: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(_BURY, {"id": item_id, "error": error[:2000]})


def _item(item_id: int, topic: str, payload: dict[str, object], attempts: int) -> OutboxItem:
    try:
        event: DomainEvent | None = decode_event(dict(payload))
    except UnknownTopic:
        event = None
    return OutboxItem(id=item_id, topic=topic, event=event, attempts=attempts)


class PgWakeups:
    """A dedicated LISTEN connection (never shared with queries) that wakes the dispatcher.

    If the connection drops it reconnects with backoff and wakes the dispatcher once, so rows
    committed while we were deaf are claimed; the dispatcher's poll covers the gap meanwhile.
    """

    def __init__(self, libpq_url: str, channel: str = CHANNEL) -> None:
        self._url = libpq_url
        self._channel = channel
        self._event = asyncio.Event()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="outbox-listen")
        # Wait (briefly) until LISTEN is in place, so an insert right after start wakes us.
        try:
            await asyncio.wait_for(self._listening.wait(), 5.0)
        except TimeoutError:
            log.warning("outbox.listen_not_ready", detail="polling until LISTEN connects")

    async def wait(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._event.wait(), seconds)
        except TimeoutError:
            return False
        self._event.clear()
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {self._channel}")  # type: ignore[arg-type]
                    self._listening.set()
                    self._event.set()
                    delay = 0.1
                    async for _ in conn.notifies():
                        self._event.set()
            except psycopg.OperationalError as exc:
                log.warning("outbox.listen_lost", error=str(exc), retry_in=delay)
            self._listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
