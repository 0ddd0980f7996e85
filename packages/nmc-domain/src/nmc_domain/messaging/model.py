"""Messages both ways, who wrote them, and the one-way ladder of an outbound one's status."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = [
    "FINAL_FAILURES",
    "Author",
    "InboundMessage",
    "MessageStatus",
    "OutboundMessage",
    "advance_status",
    "parse_provider_status",
]


class MessageStatus(StrEnum):
    """Our own states (held, queued) followed by the provider's."""

    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    # Ours: it never left and never will (the recipient opted out before it went).
    CANCELED = "canceled"
    # Ours: it may have left, and the provider's records cannot tell it from another of ours;
    # a person decides (`nmc replay list --needs-review`); a status callback settles it too.
    NEEDS_REVIEW = "needs_review"


class Author(StrEnum):
    """Who wrote an outbound text: reports tell a person's answers from automated ones."""

    TEXT_BACK = "text_back"
    ASSISTANT = "assistant"
    PERSON = "person"
    # Opt-out and opt-in confirmations, answers to HELP: what the carrier rules make us send.
    COMPLIANCE = "compliance"


# A message only ever moves up this ladder; the top rung is final.
_RANK = {
    MessageStatus.HELD: 0,
    MessageStatus.QUEUED: 1,
    MessageStatus.NEEDS_REVIEW: 1,
    MessageStatus.SENDING: 2,
    MessageStatus.SENT: 3,
    MessageStatus.DELIVERED: 4,
    MessageStatus.UNDELIVERED: 4,
    MessageStatus.FAILED: 4,
    MessageStatus.CANCELED: 4,
}
FINAL_FAILURES = frozenset(
    {MessageStatus.UNDELIVERED, MessageStatus.FAILED, MessageStatus.CANCELED}
)
# How Twilio's MessageStatus values map onto ours ("accepted"/"scheduled" are still queued).
_PROVIDER = {
    "accepted": MessageStatus.QUEUED,
    "scheduled": MessageStatus.QUEUED,
    "queued": MessageStatus.QUEUED,
    "sending": MessageStatus.SENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.UNDELIVERED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


def parse_provider_status(value: str) -> MessageStatus | None:
    """Our status for a provider's MessageStatus, None when we do not know it."""
    return _PROVIDER.get(value.strip().lower())


def advance_status(current: MessageStatus, reported: MessageStatus) -> MessageStatus:
    """The status after a report: forward moves win, late or duplicate reports change nothing."""
    return reported if _RANK[reported] > _RANK[current] else current


@attrs.frozen
class OutboundMessage:
    """An SMS we send: stored first, then handed to the provider by the worker."""

    id: UUID
    tenant_id: UUID
    conversation_id: UUID | None
    to: str
    from_: str
    body: str
    status: MessageStatus
    created_at: datetime
    provider_sid: str | None = None
    # Set just before a provider request leaves; still set after a failure means "maybe sent".
    send_attempted_at: datetime | None = None
    error: str | None = None
    author: Author = Author.TEXT_BACK
    # When the provider first took it (our clock): a missed call's text-back latency ends here.
    accepted_at: datetime | None = None

    @property
    def failed(self) -> bool:
        """It did not reach the phone and never will."""
        return self.status in FINAL_FAILURES

    @classmethod
    def queue(
        cls,
        *,
        tenant_id: UUID,
        conversation_id: UUID | None,
        to: str,
        from_: str,
        body: str,
        now: datetime,
        author: Author = Author.TEXT_BACK,
    ) -> OutboundMessage:
        """A new message waiting for the worker."""
        return cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            conversation_id=conversation_id,
            to=to,
            from_=from_,
            body=body,
            status=MessageStatus.QUEUED,
            created_at=now,
            author=author,
        )


@attrs.frozen
class InboundMessage:
    """A text a contact sent us (MMS: with the URLs of its media)."""

    id: UUID
    tenant_id: UUID
    conversation_id: UUID
    from_: str
    to: str
    body: str
    provider_sid: str
    received_at: datetime
    media_urls: tuple[str, ...] = ()
    # Why nothing automated answered it, when something held the answer back
    # ("billing_inactive": the tenant's plan did not entitle it); None otherwise.
    suppressed_reason: str | None = None
