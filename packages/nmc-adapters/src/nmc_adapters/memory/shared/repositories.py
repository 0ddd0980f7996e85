"""The shared repositories in memory: the outbox's producer side and the webhook event log."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import datetime
from uuid import UUID

from nmc_adapters.logs import current_request_id
from nmc_adapters.memory.shared.records import OutboxRow, WebhookEvent
from nmc_adapters.memory.spec import Session
from nmc_adapters.wire import encode_event
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.ports import StoredWebhook

__all__ = ["InMemoryOutbox", "InMemoryWebhookEvents"]


class InMemoryOutbox:
    """Producer side: rows get their id at once (like an identity) and wait for the commit."""

    def __init__(self, session: Session) -> None:
        self._session = session

    async def add(self, event: DomainEvent, *, not_before: datetime | None = None) -> None:
        topic, version, payload = encode_event(event)
        now = self._session.clock()
        row = OutboxRow(
            id=self._session.store.next_outbox_id(),
            tenant_id=event.tenant_id,
            topic=topic,
            payload=payload,
            schema_version=version,
            available_at=now if not_before is None else not_before,
            created_at=now,
            request_id=current_request_id(),
        )
        self._session.stage_outbox(row)


class InMemoryWebhookEvents:
    """Replays are recognised by the (provider, key) pair."""

    def __init__(
        self, rows: ChainMap[tuple[str, str], WebhookEvent], clock: Callable[[], datetime]
    ) -> None:
        self._rows = rows
        self._clock = clock

    async def record(
        self, provider: str, key: str, tenant_id: UUID | None, payload: Mapping[str, str]
    ) -> bool:
        if (provider, key) in self._rows:
            return False
        event = WebhookEvent(provider, key, tenant_id, dict(payload), self._clock())
        self._rows[provider, key] = event
        return True

    async def get(self, provider: str, key: str) -> StoredWebhook | None:
        found = self._rows.get((provider, key))
        if found is None:
            return None
        return StoredWebhook(provider, key, found.tenant_id, dict(found.payload), found.received_at)
