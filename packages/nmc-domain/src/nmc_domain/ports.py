"""Ports: the roles the domain needs from the outside world, each with its contract."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

import attrs

from nmc_domain.events import DomainEvent
from nmc_domain.model.calls import CallRecord
from nmc_domain.model.catalog import ServiceItem
from nmc_domain.model.conversation import Conversation
from nmc_domain.model.messages import OutboundMessage
from nmc_domain.model.pages import PageKey
from nmc_domain.model.quotes import Quote
from nmc_domain.model.tenant import Tenant
from nmc_domain.model.users import User

__all__ = [
    "CallRepository",
    "CatalogRepository",
    "ConversationRepository",
    "MessageRepository",
    "Outbox",
    "OutboxItem",
    "OutboxQueue",
    "OutgoingSms",
    "PhoneNumberParser",
    "PhoneNumberRepository",
    "QuoteRepository",
    "RowLock",
    "SmsReceipt",
    "SmsSender",
    "TenantRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "UserRepository",
    "Wakeups",
    "WebhookEventLog",
]


class RowLock(Enum):
    """How a read locks the row until the unit of work ends."""

    NONE = "none"
    SHARE = "share"
    UPDATE = "update"


class PhoneNumberParser(Protocol):
    """Reads what a person typed as a phone number; returns E.164 or raises InvalidPhoneNumber."""

    def parse(self, text: str, *, field: str) -> str: ...


class TenantRepository(Protocol):
    """Tenants by id, and by any phone number routed to them."""

    async def add(self, tenant: Tenant) -> None: ...

    async def get(self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE) -> Tenant | None: ...

    async def by_number(self, number: str) -> Tenant | None:
        """The tenant a number routes to; binds the unit of work to it (or to none)."""
        ...

    async def save(self, tenant: Tenant) -> None: ...


class PhoneNumberRepository(Protocol):
    """The global routing table: one E.164 number belongs to exactly one tenant."""

    async def assign(self, number: str, tenant_id: UUID) -> None:
        """Route `number` to the tenant; raises NumberAlreadyTaken when it is anyone's already."""
        ...

    async def of_tenant(self, tenant_id: UUID) -> Sequence[str]: ...


class WebhookEventLog(Protocol):
    """Remembers provider events; the database, not a read-then-write, recognises replays."""

    async def record(
        self, provider: str, key: str, tenant_id: UUID | None, payload: Mapping[str, str]
    ) -> bool:
        """True the first time (provider, key) is seen, False for every replay."""
        ...


class CallRepository(Protocol):
    """Calls that reached a final status."""

    async def add(self, call: CallRecord) -> None: ...

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[CallRecord]: ...


class ConversationRepository(Protocol):
    """Conversations; at most one open per (tenant, caller)."""

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        """The caller's open conversation, opening one if none is; True when it was opened now."""
        ...


class MessageRepository(Protocol):
    """Outbound messages."""

    async def add(self, message: OutboundMessage) -> None: ...

    async def get(
        self, tenant_id: UUID, message_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> OutboundMessage | None: ...

    async def save(self, message: OutboundMessage) -> None:
        """Write status, provider sid, send attempt time and error of an existing message."""
        ...

    async def held(self, tenant_id: UUID) -> Sequence[OutboundMessage]:
        """The tenant's held messages, oldest first, locked for update."""
        ...


class UserRepository(Protocol):
    """Users of one tenant; a duplicate subject or email raises Conflict naming it."""

    async def add(self, user: User) -> None: ...

    async def get(
        self, tenant_id: UUID, user_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> User | None: ...

    async def by_subject(self, tenant_id: UUID, subject: str) -> User | None: ...

    async def by_email(self, tenant_id: UUID, email: str) -> User | None: ...

    async def save(self, user: User) -> None: ...

    async def page(self, tenant_id: UUID, after: PageKey | None, limit: int) -> Sequence[User]:
        """Up to `limit` users after the key, ordered by (email, id)."""
        ...

    async def active_owners(self, tenant_id: UUID) -> int:
        """How many active OWNERs the tenant has (locked: a concurrent change waits)."""
        ...


class CatalogRepository(Protocol):
    """Service items of one tenant; a duplicate name (case-insensitive) raises Conflict."""

    async def add(self, item: ServiceItem) -> None: ...

    async def get(
        self, tenant_id: UUID, item_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> ServiceItem | None: ...

    async def save(self, item: ServiceItem) -> None: ...

    async def page(
        self, tenant_id: UUID, after: PageKey | None, limit: int
    ) -> Sequence[ServiceItem]:
        """Up to `limit` items after the key, ordered by (name_key, id)."""
        ...

    async def active(self, tenant_id: UUID) -> Sequence[ServiceItem]:
        """Every active item (what matching searches)."""
        ...


class QuoteRepository(Protocol):
    """Price snapshots; a booking records the quote, not the live price."""

    async def add(self, tenant_id: UUID, quote_id: UUID, quote: Quote) -> None: ...


class Outbox(Protocol):
    """Producer side: an event written here is delivered once its transaction commits."""

    async def add(self, event: DomainEvent) -> None: ...


class UnitOfWork(Protocol):
    """One database transaction; rolled back on exit unless `commit()` was called."""

    tenants: TenantRepository
    numbers: PhoneNumberRepository
    webhooks: WebhookEventLog
    calls: CallRepository
    conversations: ConversationRepository
    messages: MessageRepository
    users: UserRepository
    catalog: CatalogRepository
    quotes: QuoteRepository
    outbox: Outbox

    async def now(self) -> datetime:
        """The database's clock, fixed for the whole transaction."""
        ...

    async def bind_tenant(self, tenant_id: UUID) -> None:
        """Scope the unit of work to one tenant (row-level security's second wall).

        `tenants.by_number` binds to the number's tenant by itself.
        """
        ...

    async def commit(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


@attrs.frozen
class OutboxItem:
    """A claimed outbox row; `event` is None when its payload could not be decoded."""

    id: int
    topic: str
    event: DomainEvent | None
    attempts: int


class OutboxQueue(Protocol):
    """Consumer side of the outbox; safe with several workers at once."""

    async def claim(self, limit: int, lease_seconds: float) -> Sequence[OutboxItem]:
        """Up to `limit` due rows, oldest first, hidden from other workers for the lease."""
        ...

    async def complete(self, item_ids: Sequence[int]) -> None:
        """Mark these rows dispatched, in one go (the rows are kept)."""
        ...

    async def retry(self, item_id: int, error: str, delay_seconds: float) -> None:
        """Count a failed attempt and make the row due again after the delay."""
        ...

    async def bury(self, item_id: int, error: str) -> None:
        """Count a failed attempt and dead-letter the row."""
        ...


class Wakeups(Protocol):
    """Tells the worker that new outbox rows may be due."""

    async def wait(self, seconds: float) -> bool:
        """Return True on a wakeup, False when `seconds` passed without one."""
        ...


@attrs.frozen
class OutgoingSms:
    """What the provider needs to send one message; `reference` is our message id."""

    to: str
    from_: str
    body: str
    reference: UUID


@attrs.frozen
class SmsReceipt:
    """The provider accepted the message under this id, in this (provider) status."""

    provider_sid: str
    status: str


class SmsSender(Protocol):
    """Hands SMS to the provider. Raises SmsRejected, SmsNotSent or SmsOutcomeUnknown."""

    async def send(self, sms: OutgoingSms) -> SmsReceipt: ...

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> SmsReceipt | None:
        """The provider's record of this message sent at or after `since`, if it has one."""
        ...
