"""Ports of conversations: the SMS threads between a tenant and its callers."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from uuid import UUID

from nmc_domain.conversation.model import Conversation
from nmc_domain.messaging.ports import MessagingUnitOfWork
from nmc_domain.scheduling.ports import SchedulingUnitOfWork

__all__ = ["ConversationRepository", "ConversationUnitOfWork"]


class ConversationRepository(Protocol):
    """Conversations; at most one open per (tenant, caller)."""

    async def open_or_get(
        self, tenant_id: UUID, caller: str, now: datetime
    ) -> tuple[Conversation, bool]:
        """The caller's open conversation, opening one if none is; True when it was opened now."""
        ...


class ConversationUnitOfWork(MessagingUnitOfWork, SchedulingUnitOfWork, Protocol):
    """A unit of work that knows conversations and what they draw on (messages, the schedule)."""

    conversations: ConversationRepository
