"""Hand-offs: when a conversation went to a person, why, and when it came back to the assistant.

Reports read them (a person's first-response time starts at a hand-off); the conversation's
own status says only where it is now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

import attrs

__all__ = ["HANDOFF_BY_PERSON", "HandoffRecord", "new_handoff"]

# The reason a person's own take-over records (the assistant's hand-offs give theirs).
HANDOFF_BY_PERSON = "taken over by a person"


@attrs.frozen
class HandoffRecord:
    """One stretch of a conversation in a person's hands: from `at` until `released_at`
    (None while it lasts, or when the conversation closed in a person's hands)."""

    tenant_id: UUID
    id: UUID
    conversation_id: UUID
    at: datetime
    reason: str
    released_at: datetime | None = None


def new_handoff(tenant_id: UUID, conversation_id: UUID, at: datetime, reason: str) -> HandoffRecord:
    return HandoffRecord(tenant_id, uuid.uuid4(), conversation_id, at, reason)
