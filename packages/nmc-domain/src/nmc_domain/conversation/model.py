"""Conversations: one open SMS thread per caller per tenant."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = ["Conversation", "ConversationStatus"]


class ConversationStatus(StrEnum):
    """A conversation is open until it is closed; only one may be open per caller."""

    OPEN = "open"
    CLOSED = "closed"


@attrs.frozen
class Conversation:
    """The SMS thread between a tenant and one caller."""

    id: UUID
    tenant_id: UUID
    caller: str
    status: ConversationStatus
    opened_at: datetime
