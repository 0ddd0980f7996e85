"""What the business has texted a contact: the read behind `nmc chat` (no principal: the
operator's tools ask by the numbers, the way the contact's phone would see the thread)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.messaging.model import OutboundMessage

__all__ = ["texts_to_contact"]


async def texts_to_contact(
    uow: ConversationUnitOfWork,
    business_number: str,
    contact: str,
    *,
    since: datetime | None = None,
) -> Sequence[OutboundMessage]:
    """The texts to `contact` on its current conversation with the business that answers
    `business_number` (created at or after `since`), oldest first, whatever their status.

    Empty when the number is no tenant's or the contact has no conversation that is not
    closed: a closed conversation's texts are history, not this thread.
    """
    async with uow:
        tenant = await uow.tenants.by_number(business_number)  # binds the unit of work
        if tenant is None:
            return []
        conversation = await uow.conversations.active(tenant.id, contact)
        if conversation is None:
            return []
        thread = await uow.messages.of_conversation(tenant.id, conversation.id)
        return [
            message
            for message in thread
            if isinstance(message, OutboundMessage)
            and message.to == contact
            and (since is None or message.created_at >= since)
        ]
