"""Ports of conversations: the threads, their settings, and the assistant's unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from nmc_domain.billing.ports import BillingUnitOfWork
from nmc_domain.conversation.handoffs import HandoffRecord
from nmc_domain.conversation.model import Conversation, ConversationStatus, OpenedBy
from nmc_domain.conversation.settings import ConversationSettings
from nmc_domain.messaging.ports import MessagingUnitOfWork
from nmc_domain.scheduling.ports import SchedulingUnitOfWork
from nmc_domain.shared.pages import PageKey
from nmc_domain.shared.ports import RowLock

__all__ = [
    "ConversationRepository",
    "ConversationSettingsRepository",
    "ConversationUnitOfWork",
    "HandoffRepository",
]


class ConversationRepository(Protocol):
    """Conversations; at most one not closed per (tenant, caller), by a partial unique index."""

    async def open_or_get(
        self, tenant_id: UUID, caller: str, business_number: str, now: datetime, opened_by: OpenedBy
    ) -> tuple[Conversation, bool]:
        """The caller's conversation that is not closed, locked for update (opened if there is
        none); True when it was opened now."""
        ...

    async def active(
        self, tenant_id: UUID, caller: str, *, lock: RowLock = RowLock.NONE
    ) -> Conversation | None:
        """The caller's conversation that is not closed, if any."""
        ...

    async def get(
        self, tenant_id: UUID, conversation_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Conversation | None: ...

    async def save(self, conversation: Conversation) -> None: ...

    async def page(
        self,
        tenant_id: UUID,
        status: ConversationStatus | None,
        after: PageKey | None,
        limit: int,
    ) -> Sequence[Conversation]:
        """Latest activity first: ordered by (last_activity_at, id) descending."""
        ...


class ConversationSettingsRepository(Protocol):
    async def get(self, tenant_id: UUID) -> ConversationSettings: ...

    async def save(self, settings: ConversationSettings) -> None: ...


class HandoffRepository(Protocol):
    """Hand-offs to a person (`conversation_handoffs`), kept for reports."""

    async def add(self, handoff: HandoffRecord) -> None: ...

    async def release(self, tenant_id: UUID, conversation_id: UUID, at: datetime) -> int:
        """End the conversation's hand-offs still running at `at`; returns how many."""
        ...

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[HandoffRecord]:
        """Oldest first."""
        ...


class ConversationUnitOfWork(
    MessagingUnitOfWork, SchedulingUnitOfWork, BillingUnitOfWork, Protocol
):
    """A unit of work that knows conversations and what they draw on (messages, the schedule,
    and the plan that entitles a tenant to automated texts)."""

    conversations: ConversationRepository
    conversation_settings: ConversationSettingsRepository
    handoffs: HandoffRepository
