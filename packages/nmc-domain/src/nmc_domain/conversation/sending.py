"""Queuing a text to a conversation's contact: the one door every sender goes through.

The compliance gate sits here (and again at dispatch): nothing goes to a number that opted
out except the confirmation and HELP answers the rules require, nothing to a number that
cannot take texts, nothing on a blocked conversation but those.

So does the billing gate: a tenant whose plan does not entitle it gets no texts nobody wrote
(text-backs, the assistant's replies). The use cases ask first (`may_automate`), before they
decide anything (the assistant holds times when it offers them), and tell the door what they
found. Compliance answers and a person's texts are never held back by billing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from nmc_domain.billing.use_cases import entitlement_of
from nmc_domain.compliance.contacts import Contact
from nmc_domain.conversation.events import ConversationIdleCheck
from nmc_domain.conversation.model import Conversation, ConversationStatus
from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.conversation.settings import SHORTEST_IDLE_HOURS
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import Author, OutboundMessage
from nmc_domain.shared.errors import PermissionDenied

__all__ = ["AUTOMATED", "BILLING_INACTIVE", "may_automate", "queue_text", "schedule_idle_check"]

# Texts nobody wrote: they go out only while the tenant's plan entitles it.
AUTOMATED = frozenset({Author.TEXT_BACK, Author.ASSISTANT})
# Recorded on what billing kept from going out (a missed call's reason, an inbound text's
# `suppressed_reason`): nothing is queued for later, so nothing goes out late either.
BILLING_INACTIVE = "billing_inactive"


async def may_automate(uow: ConversationUnitOfWork, tenant_id: UUID) -> bool:
    """Whether the tenant's plan lets automated texts (AUTOMATED authors) go out now."""
    return (await entitlement_of(uow, tenant_id)).entitled


async def queue_text(
    uow: ConversationUnitOfWork,
    conversation: Conversation,
    *,
    sender: str,
    body: str,
    author: Author,
    now: datetime,
    contact: Contact | None = None,
    entitled: bool | None = None,
) -> OutboundMessage | None:
    """Store the text and queue it for the worker; None when the gate says no (nothing stored).

    A person's text is refused loudly instead (PermissionDenied): they asked, and should know.
    `entitled` is what the caller found `may_automate` to say (None: the door asks itself).
    """
    compliance_reply = author is Author.COMPLIANCE
    if contact is None:  # callers that hold the contact (locked) pass it
        contact = await uow.contacts.get(conversation.tenant_id, conversation.caller)
    blocked = conversation.status is ConversationStatus.BLOCKED and not compliance_reply
    if blocked or not contact.may_receive(compliance_reply=compliance_reply):
        if author is Author.PERSON:
            reason = "cannot take texts" if not contact.textable else "opted out"
            raise PermissionDenied(f"the contact {reason}: nothing may be sent")
        return None
    if author in AUTOMATED:
        if entitled is None:
            entitled = await may_automate(uow, conversation.tenant_id)
        if not entitled:
            return None
    message = OutboundMessage.queue(
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        to=conversation.caller,
        from_=sender,
        body=body,
        now=now,
        author=author,
    )
    await uow.messages.add(message)
    await uow.outbox.add(MessageQueued(conversation.tenant_id, message.id))
    return message


async def schedule_idle_check(
    uow: ConversationUnitOfWork, conversation: Conversation, hours: int | None = None
) -> None:
    """Have the worker look at the conversation when it may have gone silent long enough.

    Without `hours`, after the shortest idle time any tenant may set: the check reads the
    tenant's setting and looks again later if need be, so the hot paths that open
    conversations do not read the settings.
    """
    due = conversation.idle_since() + timedelta(hours=hours or SHORTEST_IDLE_HOURS)
    await uow.outbox.add(
        ConversationIdleCheck(conversation.tenant_id, conversation.id), not_before=due
    )
