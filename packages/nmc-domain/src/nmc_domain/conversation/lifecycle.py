"""Silence closes a conversation: the worker's timer, on the database clock."""

from __future__ import annotations

from enum import StrEnum

import attrs

from nmc_domain.conversation.actions import release_offers
from nmc_domain.conversation.events import ConversationIdleCheck
from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.conversation.sending import schedule_idle_check
from nmc_domain.shared.ports import RowLock

__all__ = ["IdleOutcome", "check_idle"]


class IdleOutcome(StrEnum):
    CLOSED = "closed"
    STILL_ACTIVE = "still_active"  # checked again when it may be idle
    DONE = "done"  # closed already, blocked, or gone


async def check_idle(uow: ConversationUnitOfWork, event: ConversationIdleCheck) -> IdleOutcome:
    """Close the conversation if it has been silent for the tenant's idle hours; otherwise
    look again when it may be (one pending check per conversation)."""
    async with uow:
        await uow.bind_tenant(event.tenant_id)
        conversation = await uow.conversations.get(
            event.tenant_id, event.conversation_id, lock=RowLock.UPDATE
        )
        if conversation is None:
            return IdleOutcome.DONE
        settings = await uow.conversation_settings.get(event.tenant_id)
        hours = settings.conversation_idle_hours
        now = await uow.now()
        if conversation.idle(now, hours):
            await release_offers(uow, conversation)
            closed = conversation.close(now)
            await uow.conversations.save(
                attrs.evolve(closed, memory=attrs.evolve(closed.memory, offers=()))
            )
            await uow.commit()
            return IdleOutcome.CLOSED
        if conversation.status.value in ("open", "human"):
            await schedule_idle_check(uow, conversation, hours)
            await uow.commit()
            return IdleOutcome.STILL_ACTIVE
        return IdleOutcome.DONE
