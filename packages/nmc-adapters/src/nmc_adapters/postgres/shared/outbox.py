"""The outbox in PostgreSQL: written in the business transaction, claimed with SKIP LOCKED."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import current_request_id
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_adapters.postgres.sql import Db, autocommit, compiled
from nmc_adapters.wire import UnknownTopic, decode_event, encode_event
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import OutboxItem

__all__ = ["CHANNEL", "Connect", "PgOutbox", "PgOutboxQueue", "PgWakeups"]

CHANNEL = "nmc_outbox"  # the insert trigger NOTIFYs this channel (migration 0001)
log = structlog.get_logger("nmc.outbox")

# Claim due rows, earliest due first (then by id: rows written together go in order), by the
# (available_at, id) index: timers set for later never get walked. SKIP LOCKED lets several
# workers claim disjoint batches, and the lease (available_at pushed forward) hides a claimed
# row until it is finished or the worker that holds it has died, without keeping a
# transaction open during the provider call. Each claim gets a fresh token (the fence: only
# its holder may record an outcome); a row still carrying a token was claimed before and never
# finished (its worker died or hung past the lease), and that claim counts as an attempt.
_CLAIM = b"""
    WITH due AS (
        SELECT id FROM outbox_events
        WHERE dispatched_at IS NULL AND dead_at IS NULL AND needs_review_at IS NULL
          AND available_at <= now()
        ORDER BY available_at, id
        LIMIT %(limit)s::integer
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        SELECT o.id, o.lease_token IS NOT NULL AS reclaimed
        FROM outbox_events o JOIN due ON due.id = o.id
    )
    UPDATE outbox_events AS o
    SET available_at = now() + make_interval(secs => %(lease)s::double precision),
        lease_token = gen_random_uuid(),
        attempts = o.attempts + claimed.reclaimed::integer,
        reclaims = o.reclaims + claimed.reclaimed::integer
    FROM claimed WHERE o.id = claimed.id
    RETURNING o.id, o.topic, o.payload, o.attempts, o.lease_token, o.reclaims, claimed.reclaimed,
        o.request_id,
        extract(epoch FROM now() - coalesce(o.requeued_at, o.created_at))::double precision AS age
    """
# Only the current claim of a row still pending can record its outcome: a worker whose lease
# ran out (and was taken over) must not bury a row another worker has dispatched since.
_MINE = (
    b" WHERE id = %(id)s::bigint AND lease_token = %(token)s::uuid"
    b" AND dispatched_at IS NULL AND dead_at IS NULL AND needs_review_at IS NULL"
)
_COMPLETE = b"""
    UPDATE outbox_events AS o SET dispatched_at = now(), lease_token = NULL
    FROM unnest(%(ids)s::bigint[], %(tokens)s::uuid[]) AS mine(id, token)
    WHERE o.id = mine.id AND o.lease_token = mine.token
      AND o.dispatched_at IS NULL AND o.dead_at IS NULL AND o.needs_review_at IS NULL
    RETURNING o.id
    """
_RETRY = (
    b"UPDATE outbox_events SET attempts = attempts + 1, last_error = %(error)s::text, "
    b"lease_token = NULL, "
    b"available_at = now() + make_interval(secs => %(delay)s::double precision)" + _MINE
)
_BURY = (
    b"UPDATE outbox_events SET attempts = attempts + 1, last_error = %(error)s::text, "
    b"lease_token = NULL, dead_at = now()" + _MINE
)
_SET_ASIDE = (
    b"UPDATE outbox_events SET last_error = %(error)s::text, lease_token = NULL, "
    b"needs_review_at = now()" + _MINE
)
# Shutdown hands unfinished claims back: due at once, and not counted as attempts.
_RELEASE = b"""
    UPDATE outbox_events AS o SET available_at = now(), lease_token = NULL
    FROM unnest(%(ids)s::bigint[], %(tokens)s::uuid[]) AS mine(id, token)
    WHERE o.id = mine.id AND o.lease_token = mine.token
      AND o.dispatched_at IS NULL AND o.dead_at IS NULL AND o.needs_review_at IS NULL
    """
_COLUMNS = ("tenant_id", "topic", "payload", "schema_version", "request_id")
_ADD = compiled(insert(outbox_events).values({c: bindparam(c) for c in _COLUMNS}))
_ADD_LATER = compiled(
    insert(outbox_events).values({c: bindparam(c) for c in (*_COLUMNS, "available_at")})
)
_ERROR_LIMIT = 2000


class PgOutbox:
    """Producer side, bound to the unit of work's connection (same transaction)."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, event: DomainEvent, *, not_before: datetime | None = None) -> None:
        topic, version, payload = encode_event(event)
        row = {
            "tenant_id": event.tenant_id,
            "topic": topic,
            "payload": Jsonb(payload),
            "schema_version": version,
            "available_at": not_before,
            "request_id": current_request_id(),
        }
        await self._db.run(_ADD if not_before is None else _ADD_LATER, row)


class PgOutboxQueue:
    """Consumer side: each call is one statement, hence its own transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[OutboxItem]:
        async with autocommit(self._engine) as db:
            rows = await db.all(_CLAIM, {"limit": limit, "lease": float(lease_seconds)})
        items = [_item(r) for r in rows]
        return sorted(items, key=lambda item: item.id)

    async def complete(self, items: Sequence[OutboxItem]) -> Sequence[int]:
        if not items:
            return []
        params = {"ids": [i.id for i in items], "tokens": [i.token for i in items]}
        async with autocommit(self._engine) as db:
            rows = await db.all(_COMPLETE, params)
        return sorted(row["id"] for row in rows)

    async def retry(self, item: OutboxItem, error: str, delay_seconds: float) -> bool:
        params = {**_mine(item, error), "delay": float(delay_seconds)}
        async with autocommit(self._engine) as db:
            return await db.count(_RETRY, params) == 1

    async def bury(self, item: OutboxItem, error: str) -> bool:
        async with autocommit(self._engine) as db:
            return await db.count(_BURY, _mine(item, error)) == 1

    async def set_aside(self, item: OutboxItem, reason: str) -> bool:
        async with autocommit(self._engine) as db:
            return await db.count(_SET_ASIDE, _mine(item, reason)) == 1

    async def release(self, items: Sequence[OutboxItem]) -> int:
        if not items:
            return 0
        params = {"ids": [i.id for i in items], "tokens": [i.token for i in items]}
        async with autocommit(self._engine) as db:
            return await db.count(_RELEASE, params)


def _mine(item: OutboxItem, error: str) -> dict[str, object]:
    return {"id": item.id, "token": item.token, "error": error[:_ERROR_LIMIT]}


def _item(row: Mapping[str, Any]) -> OutboxItem:
    try:
        event: DomainEvent | None = decode_event(dict(row["payload"]))
    except UnknownTopic:
        event = None
    return OutboxItem(
        id=row["id"],
        topic=row["topic"],
        event=event,
        attempts=row["attempts"],
        token=row["lease_token"],
        age_seconds=max(0.0, float(row["age"])),
        reclaimed=bool(row["reclaimed"]),
        reclaims=row["reclaims"],
        request_id=row["request_id"],
    )


# Opens the LISTEN connection (autocommit) for a libpq URL.
Connect = Callable[[str], Awaitable[psycopg.AsyncConnection[Any]]]
_FIRST_DELAY = 0.1
_MAX_DELAY = 5.0


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


class PgWakeups:
    """A dedicated LISTEN connection (never shared with queries) that wakes the dispatcher.

    Whatever ends the connection (a drop, or any error at all) is logged and it reconnects with
    backoff, then wakes the dispatcher once, so rows committed while we were deaf are claimed;
    the dispatcher's poll covers the gap meanwhile. Only cancellation (close) stops it.
    `connect` opens the connection (an autocommit psycopg AsyncConnection).
    """

    def __init__(
        self, libpq_url: str, channel: str = CHANNEL, *, connect: Connect = _connect
    ) -> None:
        self._url = libpq_url
        self._channel = channel
        self._connect = connect
        self._event = asyncio.Event()
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def listening(self) -> bool:
        """LISTEN is in place right now."""
        return self._listening.is_set()

    @property
    def running(self) -> bool:
        """The listen task is alive (started, not closed, not dead)."""
        return self._task is not None and not self._task.done()

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
        delay = _FIRST_DELAY
        while True:
            try:
                async with await self._connect(self._url) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    self._listening.set()
                    self._event.set()
                    delay = _FIRST_DELAY
                    async for _ in conn.notifies():
                        self._event.set()
                log.warning("outbox.listen_failed", error="connection closed", retry_in=delay)
            except psycopg.OperationalError as exc:
                # The server went away or is unreachable: expected now and then.
                log.warning("outbox.listen_failed", error=_describe(exc), retry_in=delay)
            except Exception as exc:
                # Anything else is a bug or a misconfiguration; dying silently would leave the
                # worker on its poll alone, so say it loudly and keep trying.
                log.error(
                    "outbox.listen_failed", error=_describe(exc), retry_in=delay, exc_info=True
                )
            self._listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_DELAY)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
