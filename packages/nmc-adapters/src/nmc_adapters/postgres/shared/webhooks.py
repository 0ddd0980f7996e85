"""The webhook event log: INSERT … ON CONFLICT DO NOTHING recognises replays."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from psycopg.types.json import Jsonb
from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.shared.tables import webhook_events
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.shared.ports import StoredWebhook

__all__ = ["PgWebhookEvents"]

_RECORD = compiled(
    pg_insert(webhook_events)
    .values({c: bindparam(c) for c in ("provider", "event_key", "tenant_id", "payload")})
    .on_conflict_do_nothing()
    .returning(webhook_events.c.provider)
)
_GET = compiled(
    select(webhook_events).where(
        webhook_events.c.provider == bindparam("provider"),
        webhook_events.c.event_key == bindparam("event_key"),
    )
)


class PgWebhookEvents:
    """Racing replays wait for the first insert, then do nothing."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def record(
        self, provider: str, key: str, tenant_id: UUID | None, payload: Mapping[str, str]
    ) -> bool:
        params = {
            "provider": provider,
            "event_key": key,
            "tenant_id": tenant_id,
            "payload": Jsonb(dict(payload)),
        }
        return await self._db.one(_RECORD, params) is not None

    async def get(self, provider: str, key: str) -> StoredWebhook | None:
        row = await self._db.one(_GET, {"provider": provider, "event_key": key})
        if row is None:
            return None
        return StoredWebhook(
            provider=row["provider"],
            key=row["event_key"],
            tenant_id=row["tenant_id"],
            payload={str(k): str(v) for k, v in dict(row["payload"]).items()},
            received_at=row["received_at"],
        )
