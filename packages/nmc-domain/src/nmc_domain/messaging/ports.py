"""Ports of messaging: stored messages and the SMS provider."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import attrs

from nmc_domain.compliance.ports import ComplianceUnitOfWork
from nmc_domain.messaging.model import InboundMessage, OutboundMessage
from nmc_domain.shared.ports import RowLock

__all__ = [
    "MessageRepository",
    "MessagingUnitOfWork",
    "OutgoingSms",
    "SmsReceipt",
    "SmsSender",
]


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

    async def add_inbound(self, message: InboundMessage) -> None: ...

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[OutboundMessage | InboundMessage]:
        """Both directions, oldest first."""
        ...

    async def alike(
        self, tenant_id: UUID, message: OutboundMessage, *, since: datetime
    ) -> Sequence[OutboundMessage]:
        """The tenant's other outbound messages with this one's sender, recipient and body,
        created at or after `since` (reconciliation tells them apart)."""
        ...

    async def cancel_pending_to(self, tenant_id: UUID, phone: str) -> Sequence[UUID]:
        """Cancel the texts to `phone` that have not left (held, or queued with no send
        attempt yet); returns their ids."""
        ...


class MessagingUnitOfWork(ComplianceUnitOfWork, Protocol):
    """A unit of work that knows messages (and the compliance gate they pass)."""

    messages: MessageRepository


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

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> Sequence[SmsReceipt]:
        """Every record the provider has of a message like this one (same sender, recipient
        and body) created at or after `since`: each could be this message, or another of ours
        with the same text. Raises SmsNotSent when the provider cannot be asked now."""
        ...
