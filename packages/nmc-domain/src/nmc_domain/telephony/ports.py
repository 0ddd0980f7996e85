"""Ports of telephony: the calls that reached a final status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.telephony.model import CallRecord

__all__ = ["CallRepository", "TelephonyUnitOfWork"]


class CallRepository(Protocol):
    """Calls that reached a final status, one per (tenant, call sid)."""

    async def add(self, call: CallRecord) -> None: ...

    async def of_conversation(
        self, tenant_id: UUID, conversation_id: UUID
    ) -> Sequence[CallRecord]: ...


class TelephonyUnitOfWork(ConversationUnitOfWork, Protocol):
    """A unit of work that records calls (and opens the conversations they start)."""

    calls: CallRepository
