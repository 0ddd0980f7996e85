"""Events of conversations."""

from __future__ import annotations

from uuid import UUID

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = ["ConversationIdleCheck", "HandoffRequested"]


@attrs.frozen
class HandoffRequested(DomainEvent):
    """The assistant handed a conversation to a person (the owner should look)."""

    conversation_id: UUID
    reason: str


@attrs.frozen
class ConversationIdleCheck(DomainEvent):
    """Due when the conversation may have gone silent long enough to close."""

    conversation_id: UUID
