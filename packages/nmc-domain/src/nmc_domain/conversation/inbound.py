"""An inbound text: stored once, and answered in the same transaction that stores it.

Keywords come first (STOP, START, HELP: the carrier rules); then a person's conversation
waits for the person; an open one gets the assistant's answer, if the tenant's plan entitles
it (else the text is stored as suppressed, `billing_inactive`, and never answered later). The
answer is decided under the conversation's row lock, so a takeover silences the assistant at
once.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID, uuid4

import attrs

from nmc_domain.compliance.contacts import Contact, opt_in, opt_out
from nmc_domain.conversation.actions import carry_out, release_offers
from nmc_domain.conversation.assistant import Assistant, Turn
from nmc_domain.conversation.keywords import Keyword, keyword_of
from nmc_domain.conversation.model import Conversation, ConversationStatus, OpenedBy
from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.conversation.sending import (
    BILLING_INACTIVE,
    may_automate,
    queue_text,
    schedule_idle_check,
)
from nmc_domain.conversation.texts import fit, lead_with
from nmc_domain.messaging.model import Author, InboundMessage
from nmc_domain.scheduling.external_busy import CalendarCheck
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["SMS_EVENTS", "InboundOutcome", "InboundResult", "InboundText", "receive_text"]

# Provider name under which inbound texts are remembered; the key is the MessageSid.
SMS_EVENTS = "twilio.sms"


@attrs.frozen
class InboundText:
    """A text a contact sent to one of the tenant's numbers."""

    message_sid: str
    sender: str
    to: str
    body: str
    media_urls: tuple[str, ...] = ()
    payload: Mapping[str, str] = attrs.field(factory=dict)


class InboundOutcome(StrEnum):
    UNKNOWN_NUMBER = "unknown_number"
    DUPLICATE = "duplicate"
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"
    HELP = "help"
    SILENT = "silent"  # stored; the contact opted out, or cannot be answered
    FOR_PERSON = "for_person"  # a person has the conversation: the assistant stays silent
    # Stored (suppressed_reason billing_inactive): the plan does not entitle the assistant.
    BILLING_INACTIVE = "billing_inactive"
    ANSWERED = "answered"


@attrs.frozen
class InboundResult:
    outcome: InboundOutcome
    tenant_id: UUID | None = None
    conversation_id: UUID | None = None
    message_id: UUID | None = None


def _unsubscribed(business: str) -> str:
    return fit(
        f"{business}: you're unsubscribed and will get no more texts from us. "
        "Reply START to opt back in."
    )


def _resubscribed(business: str) -> str:
    return fit(f"{business}: you're subscribed to our texts again. Reply STOP to opt out.")


async def _help(uow: ConversationUnitOfWork, tenant: Tenant) -> str:
    settings = await uow.conversation_settings.get(tenant.id)
    contact = settings.help_contact or tenant.forward_to
    return fit(f"{tenant.name}: {contact}. Reply STOP to opt out.")


async def receive_text(
    uow: ConversationUnitOfWork,
    assistant: Assistant,
    text: InboundText,
    *,
    calendars: CalendarCheck | None = None,
) -> InboundResult:
    """Store the text once (a replayed MessageSid changes nothing) and answer it; `calendars`
    re-checks the times it offers against technicians' own calendars."""
    async with uow:
        tenant = await uow.tenants.by_number(text.to)
        if tenant is None:
            return InboundResult(InboundOutcome.UNKNOWN_NUMBER)
        if not await uow.webhooks.record(SMS_EVENTS, text.message_sid, tenant.id, text.payload):
            return InboundResult(InboundOutcome.DUPLICATE, tenant.id)
        now = await uow.now()
        # The contact's row first, then the conversation's: every writer locks in this order.
        contact = await uow.contacts.get(tenant.id, text.sender, lock=RowLock.UPDATE)
        conversation, opened = await uow.conversations.open_or_get(
            tenant.id, text.sender, text.to, now, OpenedBy.TEXT
        )
        message = InboundMessage(
            id=uuid4(),
            tenant_id=tenant.id,
            conversation_id=conversation.id,
            from_=text.sender,
            to=text.to,
            body=text.body,
            provider_sid=text.message_sid,
            received_at=now,
            media_urls=text.media_urls,
        )
        if opened:
            await schedule_idle_check(uow, conversation)
        conversation, outcome = await _answer(
            uow, assistant, tenant, conversation.touched(now), message, contact, calendars
        )
        if outcome is InboundOutcome.BILLING_INACTIVE:
            message = attrs.evolve(message, suppressed_reason=BILLING_INACTIVE)
        # Stored with what became of it (answering it needs only its id).
        await uow.messages.add_inbound(message)
        await uow.conversations.save(conversation)
        await uow.commit()
        return InboundResult(outcome, tenant.id, conversation.id, message.id)


async def _answer(
    uow: ConversationUnitOfWork,
    assistant: Assistant,
    tenant: Tenant,
    conversation: Conversation,
    message: InboundMessage,
    contact: Contact,
    calendars: CalendarCheck | None,
) -> tuple[Conversation, InboundOutcome]:
    now = message.received_at
    keyword = keyword_of(message.body)

    async def say(body: str, author: Author) -> None:
        await queue_text(
            uow,
            conversation,
            sender=conversation.business_number,
            body=body,
            author=author,
            now=now,
            contact=contact,  # as it stands at the time of saying (after an opt-out, say)
            entitled=True,  # asked before the assistant decides; other authors are not gated
        )

    if keyword is Keyword.OPT_OUT:
        was_out = contact.opted_out
        contact, entry = opt_out(contact, text=message.body, message_id=message.id, now=now)
        await uow.opt_outs.append(entry)
        await uow.contacts.save(contact)
        await uow.messages.cancel_pending_to(tenant.id, message.from_)
        await release_offers(uow, conversation)
        conversation = attrs.evolve(conversation.block(now), memory=attrs.evolve(
            conversation.memory, offers=()
        ))  # fmt: skip
        if not was_out:  # one confirmation per opt-out, not one per repeated STOP
            await say(_unsubscribed(tenant.name), Author.COMPLIANCE)
        return conversation, InboundOutcome.OPTED_OUT
    if keyword is Keyword.OPT_IN and contact.opted_out:
        contact, entry = opt_in(contact, text=message.body, message_id=message.id, now=now)
        await uow.opt_outs.append(entry)
        await uow.contacts.save(contact)
        if conversation.status is ConversationStatus.BLOCKED:
            conversation = conversation.unblock(now)
            # An idle check that came while it was blocked ended the checks: start them again.
            await schedule_idle_check(uow, conversation)
        await say(_resubscribed(tenant.name), Author.COMPLIANCE)
        return conversation, InboundOutcome.OPTED_IN
    if keyword is Keyword.HELP:
        await say(await _help(uow, tenant), Author.COMPLIANCE)
        return conversation, InboundOutcome.HELP
    if not contact.may_receive() or conversation.status is ConversationStatus.BLOCKED:
        return conversation, InboundOutcome.SILENT
    if conversation.status is ConversationStatus.HUMAN:
        return conversation, InboundOutcome.FOR_PERSON
    if not await may_automate(uow, tenant.id):
        # Before the assistant decides anything: it would hold times as it offers them.
        return conversation, InboundOutcome.BILLING_INACTIVE
    turn = Turn(
        text=message.body,
        memory=conversation.memory,
        catalog=tuple(await uow.catalog.active(tenant.id)),
        business_name=tenant.name,
        timezone=tenant.timezone,
        now=now,
    )
    decision = await assistant.decide(turn)
    outcome = await carry_out(
        uow, tenant, conversation, decision, key=f"sms:{message.provider_sid}", calendars=calendars
    )
    conversation = outcome.conversation
    if outcome.reply is not None:
        body = outcome.reply
        if not conversation.memory.disclosed:
            settings = await uow.conversation_settings.get(tenant.id)
            body = lead_with(settings.disclosure(tenant.name), body)
            conversation = attrs.evolve(
                conversation, memory=attrs.evolve(conversation.memory, disclosed=True)
            )
        await say(body, Author.ASSISTANT)
    return conversation, InboundOutcome.ANSWERED
