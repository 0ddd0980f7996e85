"""Conversations: the SMS thread with one contact, and who answers it.

open (the assistant answers) <-> human (a person took over; the assistant is silent);
any -> blocked when the contact opts out, blocked -> open only when they opt back in;
open or human -> closed after a day of silence (a setting) or by a person. A closed
conversation stays closed: the next missed call or text opens a new one. At most one
conversation per (tenant, contact) is not closed.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.conversation.memory import Memory
from nmc_domain.shared.errors import Conflict

__all__ = ["Conversation", "ConversationStatus", "OpenedBy", "new_conversation"]


class ConversationStatus(StrEnum):
    OPEN = "open"
    HUMAN = "human"
    BLOCKED = "blocked"
    CLOSED = "closed"


class OpenedBy(StrEnum):
    """What opened the conversation: a missed call (it gets a text-back) or the contact's text."""

    CALL = "call"
    TEXT = "text"


_MOVES = {
    "take_over": ({ConversationStatus.OPEN}, ConversationStatus.HUMAN),
    "release": ({ConversationStatus.HUMAN}, ConversationStatus.OPEN),
    "close": ({ConversationStatus.OPEN, ConversationStatus.HUMAN}, ConversationStatus.CLOSED),
    "unblock": ({ConversationStatus.BLOCKED}, ConversationStatus.OPEN),
}


@attrs.frozen
class Conversation:
    """The thread between a tenant and one contact number (`caller`)."""

    id: UUID
    tenant_id: UUID
    caller: str
    # The business's number the conversation runs on (texts go out from it).
    business_number: str
    status: ConversationStatus
    opened_at: datetime
    last_activity_at: datetime | None = None
    closed_at: datetime | None = None
    opened_by: OpenedBy = OpenedBy.CALL
    # The text-back this conversation sent (a missed call opened it), if any.
    text_back_id: UUID | None = None
    memory: Memory = attrs.field(factory=Memory)

    @property
    def assistant_answers(self) -> bool:
        return self.status is ConversationStatus.OPEN

    def _move(self, move: str, now: datetime) -> Conversation:
        allowed, target = _MOVES[move]
        if self.status not in allowed:
            raise Conflict(
                "state", f"a {self.status.value} conversation cannot {move.replace('_', ' ')}"
            )
        closed_at = now if target is ConversationStatus.CLOSED else self.closed_at
        return attrs.evolve(self, status=target, closed_at=closed_at, last_activity_at=now)

    def take_over(self, now: datetime) -> Conversation:
        """A person answers from now on; taking over twice changes nothing."""
        if self.status is ConversationStatus.HUMAN:
            return self
        return self._move("take_over", now)

    def release(self, now: datetime) -> Conversation:
        """Back to the assistant; releasing twice changes nothing."""
        if self.status is ConversationStatus.OPEN:
            return self
        return self._move("release", now)

    def close(self, now: datetime) -> Conversation:
        if self.status is ConversationStatus.CLOSED:
            return self
        return self._move("close", now)

    def block(self, now: datetime) -> Conversation:
        """The contact opted out: nothing may be sent (from any state but closed)."""
        if self.status is ConversationStatus.CLOSED:
            raise Conflict("state", "a closed conversation cannot be blocked")
        return attrs.evolve(self, status=ConversationStatus.BLOCKED, last_activity_at=now)

    def unblock(self, now: datetime) -> Conversation:
        """The contact opted back in."""
        return self._move("unblock", now)

    def touched(self, now: datetime) -> Conversation:
        return attrs.evolve(self, last_activity_at=now)

    def idle_since(self) -> datetime:
        return self.last_activity_at or self.opened_at

    def idle(self, now: datetime, hours: int) -> bool:
        """Silent long enough to close (blocked ones stay: they guard an opt-out)."""
        live = self.status in (ConversationStatus.OPEN, ConversationStatus.HUMAN)
        return live and now - self.idle_since() >= timedelta(hours=hours)


def new_conversation(
    *, tenant_id: UUID, caller: str, business_number: str, now: datetime, opened_by: OpenedBy
) -> Conversation:
    return Conversation(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        caller=caller,
        business_number=business_number,
        status=ConversationStatus.OPEN,
        opened_at=now,
        last_activity_at=now,
        opened_by=opened_by,
    )
