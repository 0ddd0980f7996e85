"""The operators' side of the outbox in PostgreSQL: list, requeue and purge (`nmc replay`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres.sql import autocommit
from nmc_adapters.wire import UnknownTopic, decode_event
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import OutboxFilter, OutboxRecord, Purged

__all__ = ["PgOutboxAdmin"]

_COLUMNS = (
    b"id, tenant_id, topic, payload, attempts, last_error, created_at, available_at, "
    b"dispatched_at, dead_at, needs_review_at, request_id"
)
_STATES: Mapping[str, bytes] = {
    "dead": b"dead_at IS NOT NULL",
    "needs_review": b"needs_review_at IS NOT NULL",
    "dispatched": b"dispatched_at IS NOT NULL",
    "pending": b"dispatched_at IS NULL AND dead_at IS NULL AND needs_review_at IS NULL",
}
_FIND = (
    b"SELECT " + _COLUMNS + b" FROM outbox_events WHERE "
    b"(%(topic)s::text IS NULL OR topic = %(topic)s::text) AND "
    b"(%(tenant_id)s::uuid IS NULL OR tenant_id = %(tenant_id)s::uuid) AND "
    b"(%(since)s::timestamptz IS NULL OR created_at >= %(since)s::timestamptz) AND "
)
_GET = b"SELECT " + _COLUMNS + b" FROM outbox_events WHERE id = ANY(%(ids)s::bigint[]) ORDER BY id"
# Only rows nobody is working on: dead or set aside. The error stays for the record; the
# attempts, the lapsed claims and the retry budget start again.
_REQUEUE = b"""
    UPDATE outbox_events SET dead_at = NULL, needs_review_at = NULL, attempts = 0,
        reclaims = 0, requeued_at = now(), lease_token = NULL, available_at = now()
    WHERE id = ANY(%(ids)s::bigint[]) AND dispatched_at IS NULL
      AND (dead_at IS NOT NULL OR needs_review_at IS NOT NULL)
    RETURNING id
    """
_PURGE_OUTBOX = b"""
    DELETE FROM outbox_events WHERE id IN (
        SELECT id FROM outbox_events
        WHERE (dispatched_at IS NOT NULL OR dead_at IS NOT NULL)
          AND created_at < %(before)s::timestamptz
        ORDER BY created_at LIMIT %(batch)s::integer
        FOR UPDATE SKIP LOCKED)
    """
_PURGE_WEBHOOKS = b"""
    DELETE FROM webhook_events WHERE (provider, event_key) IN (
        SELECT provider, event_key FROM webhook_events
        WHERE received_at < %(before)s::timestamptz
        ORDER BY received_at LIMIT %(batch)s::integer
        FOR UPDATE SKIP LOCKED)
    """


class PgOutboxAdmin:
    """Every tenant's rows (the outbox is a system table); each call is its own statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, where: OutboxFilter, *, limit: int) -> Sequence[OutboxRecord]:
        state = _STATES.get(where.state or "", b"TRUE")
        sql = _FIND + state + b" ORDER BY created_at, id LIMIT %(limit)s::integer"
        params = {
            "topic": where.topic,
            "tenant_id": where.tenant_id,
            "since": where.since,
            "limit": limit,
        }
        async with autocommit(self._engine) as db:
            rows = await db.all(sql, params)
        return [_record(row) for row in rows]

    async def get(self, ids: Sequence[int]) -> Sequence[OutboxRecord]:
        async with autocommit(self._engine) as db:
            rows = await db.all(_GET, {"ids": list(ids)})
        return [_record(row) for row in rows]

    async def requeue(self, ids: Sequence[int]) -> Sequence[int]:
        if not ids:
            return []
        async with autocommit(self._engine) as db:
            rows = await db.all(_REQUEUE, {"ids": list(ids)})
        return sorted(row["id"] for row in rows)

    async def purge(self, older_than: datetime, *, batch: int) -> Purged:
        params = {"before": older_than, "batch": batch}
        async with autocommit(self._engine) as db:
            outbox = await db.count(_PURGE_OUTBOX, params)
            webhooks = await db.count(_PURGE_WEBHOOKS, params)
        return Purged(outbox_rows=outbox, webhook_events=webhooks)


def _record(row: Mapping[str, Any]) -> OutboxRecord:
    try:
        event: DomainEvent | None = decode_event(dict(row["payload"]))
    except UnknownTopic:
        event = None
    return OutboxRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        topic=row["topic"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        created_at=row["created_at"],
        available_at=row["available_at"],
        dispatched_at=row["dispatched_at"],
        dead_at=row["dead_at"],
        needs_review_at=row["needs_review_at"],
        request_id=row["request_id"],
        event=event,
    )
