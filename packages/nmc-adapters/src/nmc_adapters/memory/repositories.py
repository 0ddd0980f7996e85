"""In-memory repositories: reads see the unit of work's own writes over the committed rows."""

from __future__ import annotations

import uuid
from collections import ChainMap
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from nmc_adapters.memory.store import WebhookEvent
from nmc_domain.errors import NumberAlreadyTaken
from nmc_domain.model.calls import CallRecord
from nmc_domain.model.conversation import Conversation, ConversationStatus
from nmc_domain.model.messages import MessageStatus, OutboundMessage
from nmc_domain.model.tenant import Tenant
from nmc_domain.ports import RowLock

__all__ = [
    "InMemoryCalls",
    "InMemoryConversations",
    "InMemoryMessages",
    "InMemoryPhoneNumbers",
    "InMemoryTenants",
    "InMemoryWebhookEvents",
]

# Each repository gets a ChainMap(staged, committed): writes land in the staged dict only, and
# reads see them first. Row locks are accepted and ignored: the fake runs on one event loop.
Tenants = ChainMap[UUID, Tenant]


def require_tenant(tenants: Tenants, tenant_id: UUID) -> None:
    # The foreign key of every tenant-owned table; PostgreSQL raises an IntegrityError here.
    if tenant_id not in tenants:
        raise ValueError(f"no tenant {tenant_id} (foreign key violation)")


class InMemoryTenants:
    """Tenants by id, and by a number routed to them."""

    def __init__(self, rows: Tenants, numbers: ChainMap[str, UUID]) -> None:
        self._rows = rows
        self._numbers = numbers

    async def add(self, tenant: Tenant) -> None:
        if tenant.id in self._rows:
            raise ValueError(f"tenant {tenant.id} exists (primary key violation)")
        self._rows[tenant.id] = tenant

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None:
        return self._rows.get(tenant_id)

    async def by_number(self, number: str) -> Tenant | None:
        tenant_id = self._numbers.get(number)
        return None if tenant_id is None else self._rows.get(tenant_id)

    async def save(self, tenant: Tenant) -> None:
        if tenant.id in self._rows:  # an UPDATE of a missing row changes nothing
            self._rows[tenant.id] = tenant


class InMemoryPhoneNumbers:
    """The routing table: one number, one tenant."""

    def __init__(self, rows: ChainMap[str, UUID], tenants: Tenants) -> None:
        self._rows = rows
        self._tenants = tenants

    async def assign(self, number: str, tenant_id: UUID) -> None:
        if number in self._rows:
            raise NumberAlreadyTaken(number)
        require_tenant(self._tenants, tenant_id)
        self._rows[number] = tenant_id

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]:
        return sorted(number for number, owner in self._rows.items() if owner == tenant_id)


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


class InMemoryCalls:
    """Final call outcomes, one per (tenant, call sid)."""

    def __init__(self, rows: ChainMap[tuple[UUID, UUID], CallRecord], tenants: Tenants) -> None:
        self._rows = rows
        self._tenants = tenants

    async def add(self, call: CallRecord) -> None:
        require_tenant(self._tenants, call.tenant_id)
        for other in self._rows.values():
            if (other.tenant_id, other.call_sid) == (call.tenant_id, call.call_sid):
                raise ValueError(f"call {call.call_sid} exists (unique violation)")
        self._rows[call.tenant_id, call.id] = call

    async def of_conversation(self, tenant_id: UUID, conversation_id: UUID) -> Sequence[CallRecord]:
        found = [
            call
            for call in self._rows.values()
            if call.tenant_id == tenant_id and call.conversation_id == conversation_id
        ]
        return sorted(found, key=lambda call: (call.occurred_at, call.call_sid))


class InMemoryConversations:
    """At most one open conversation per (tenant, caller)."""

    def __init__(self, rows: ChainMap[tuple[UUID, UUID], Conversation], tenants: Tenants) -> None:
        self._rows = rows
        self._tenants = tenants

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        for conversation in self._rows.values():
            if (conversation.tenant_id, conversation.caller) == (tenant_id, caller) and (
                conversation.status == ConversationStatus.OPEN
            ):
                return conversation, False
        require_tenant(self._tenants, tenant_id)
        opened = Conversation(uuid.uuid4(), tenant_id, caller, ConversationStatus.OPEN, now)
        self._rows[tenant_id, opened.id] = opened
        return opened, True


class InMemoryMessages:
    """Outbound messages, addressed by (tenant, id)."""

    def __init__(
        self, rows: ChainMap[tuple[UUID, UUID], OutboundMessage], tenants: Tenants
    ) -> None:
        self._rows = rows
        self._tenants = tenants

    async def add(self, message: OutboundMessage) -> None:
        require_tenant(self._tenants, message.tenant_id)
        if (message.tenant_id, message.id) in self._rows:
            raise ValueError(f"message {message.id} exists (primary key violation)")
        self._rows[message.tenant_id, message.id] = message

    async def get(
        self, tenant_id: UUID, message_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> OutboundMessage | None:
        return self._rows.get((tenant_id, message_id))

    async def save(self, message: OutboundMessage) -> None:
        key = (message.tenant_id, message.id)
        if key in self._rows:  # an UPDATE of a missing row changes nothing
            self._rows[key] = message

    async def held(self, tenant_id: UUID) -> Sequence[OutboundMessage]:
        found = [
            message
            for message in self._rows.values()
            if message.tenant_id == tenant_id and message.status == MessageStatus.HELD
        ]
        return sorted(found, key=lambda message: (message.created_at, message.id))
