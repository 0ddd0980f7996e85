"""People in the conversation (the tenant API, any role): list, take over, hand back, close,
and text the contact themselves. (Showing one, with its calls, is telephony's: calls live there.)"""

from __future__ import annotations

from uuid import UUID

import attrs

from nmc_domain.conversation.actions import release_offers
from nmc_domain.conversation.handoffs import HANDOFF_BY_PERSON, new_handoff
from nmc_domain.conversation.memory import Memory
from nmc_domain.conversation.model import Conversation, ConversationStatus
from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.conversation.sending import queue_text
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.messaging.model import Author, OutboundMessage
from nmc_domain.messaging.segments import count_segments
from nmc_domain.shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from nmc_domain.shared.pages import Page, PageKey, check_limit, page_of
from nmc_domain.shared.ports import RowLock

__all__ = [
    "MAX_PERSON_TEXT",
    "close_conversation",
    "list_conversations",
    "release_conversation",
    "send_person_text",
    "take_over_conversation",
]

# Ten segments: a person may write more than the assistant, not a letter.
MAX_PERSON_TEXT = 1530


def _key(conversation: Conversation) -> PageKey:
    return (conversation.idle_since().isoformat(), conversation.id)


async def list_conversations(
    uow: ConversationUnitOfWork,
    principal: Principal,
    status: ConversationStatus | None,
    after: PageKey | None,
    limit: int,
) -> Page[Conversation]:
    async with uow:
        await authorize(uow, principal)
        limit = check_limit(limit)
        rows = await uow.conversations.page(principal.tenant_id, status, after, limit + 1)
        return page_of(rows, limit, _key)


async def _found(
    uow: ConversationUnitOfWork, tenant_id: UUID, conversation_id: UUID, lock: RowLock
) -> Conversation:
    conversation = await uow.conversations.get(tenant_id, conversation_id, lock=lock)
    if conversation is None:
        raise NotFound("conversation", conversation_id)
    return conversation


async def _change(
    uow: ConversationUnitOfWork, principal: Principal, conversation_id: UUID, move: str
) -> Conversation:
    async with uow:
        await authorize(uow, principal)
        tenant_id = principal.tenant_id
        # The contact's row, then the conversation's: the order every writer takes.
        conversation = await _found(uow, tenant_id, conversation_id, RowLock.NONE)
        await uow.contacts.get(tenant_id, conversation.caller, lock=RowLock.UPDATE)
        conversation = await _found(uow, tenant_id, conversation_id, RowLock.UPDATE)
        now = await uow.now()
        if move == "take_over":
            changed = conversation.take_over(now)
            if changed != conversation:
                handoff = new_handoff(tenant_id, conversation.id, now, HANDOFF_BY_PERSON)
                await uow.handoffs.add(handoff)
        elif move == "release":
            # Back to the assistant with a clean slate: it asks about the job afresh.
            changed = conversation.release(now)
            if changed != conversation:
                await uow.handoffs.release(tenant_id, conversation.id, now)
                # The forgotten offers are no longer offered: free their times too.
                await release_offers(uow, conversation)
                changed = attrs.evolve(changed, memory=Memory(disclosed=changed.memory.disclosed))
        else:
            changed = conversation.close(now)
            if changed != conversation:
                await release_offers(uow, conversation)
                changed = attrs.evolve(changed, memory=attrs.evolve(changed.memory, offers=()))
        if changed != conversation:
            await uow.conversations.save(changed)
            await uow.commit()
        return changed


async def take_over_conversation(
    uow: ConversationUnitOfWork, principal: Principal, conversation_id: UUID
) -> Conversation:
    """A person answers from now on; the assistant is silent at once (409 if not open)."""
    return await _change(uow, principal, conversation_id, "take_over")


async def release_conversation(
    uow: ConversationUnitOfWork, principal: Principal, conversation_id: UUID
) -> Conversation:
    return await _change(uow, principal, conversation_id, "release")


async def close_conversation(
    uow: ConversationUnitOfWork, principal: Principal, conversation_id: UUID
) -> Conversation:
    return await _change(uow, principal, conversation_id, "close")


async def send_person_text(
    uow: ConversationUnitOfWork, principal: Principal, conversation_id: UUID, body: str
) -> OutboundMessage:
    """A person's text: 403 when the tenant may not send or the contact opted out, 409 on a
    closed conversation."""
    text = body.strip()
    if not text:
        raise InvalidInput("body", "must not be empty")
    if len(text) > MAX_PERSON_TEXT or count_segments(text).count > 10:
        raise InvalidInput("body", "longer than 10 segments")
    async with uow:
        await authorize(uow, principal)
        tenant_id = principal.tenant_id
        conversation = await _found(uow, tenant_id, conversation_id, RowLock.NONE)
        await uow.contacts.get(tenant_id, conversation.caller, lock=RowLock.UPDATE)
        conversation = await _found(uow, tenant_id, conversation_id, RowLock.UPDATE)
        if conversation.status is ConversationStatus.CLOSED:
            raise Conflict("state", "the conversation is closed")
        compliance = await uow.compliance.get(tenant_id, lock=RowLock.SHARE)
        if compliance is None or not compliance.may_send:
            raise PermissionDenied("the business's texting registration is not approved yet")
        now = await uow.now()
        message = await queue_text(
            uow, conversation, sender=conversation.business_number, body=text,
            author=Author.PERSON, now=now,
        )  # fmt: skip
        assert message is not None  # a person's refused text raises instead
        await uow.conversations.save(conversation.touched(now))
        await uow.commit()
        return message
