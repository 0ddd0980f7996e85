"""One conversation as a person sees it: both sides' texts, the calls, the offers, the booking."""

from __future__ import annotations

from uuid import UUID

import attrs

from nmc_domain.compliance.contacts import Contact
from nmc_domain.conversation.model import Conversation
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.messaging.model import InboundMessage, OutboundMessage
from nmc_domain.scheduling.booking import Booking
from nmc_domain.shared.errors import NotFound
from nmc_domain.telephony.model import CallRecord
from nmc_domain.telephony.ports import TelephonyUnitOfWork

__all__ = ["ConversationView", "show_conversation"]


@attrs.frozen
class ConversationView:
    """A conversation with what a person needs to see to step in."""

    conversation: Conversation
    contact: Contact
    messages: tuple[OutboundMessage | InboundMessage, ...]
    calls: tuple[CallRecord, ...]
    bookings: tuple[Booking, ...]


async def show_conversation(
    uow: TelephonyUnitOfWork, principal: Principal, conversation_id: UUID
) -> ConversationView:
    async with uow:
        await authorize(uow, principal)
        tenant_id = principal.tenant_id
        conversation = await uow.conversations.get(tenant_id, conversation_id)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        bookings: list[Booking] = []
        memory = conversation.memory
        ids = [offer.hold_id for offer in memory.offers]
        if memory.appointment_id is not None:
            ids.append(memory.appointment_id)
        for booking_id in ids:
            booking = await uow.bookings.get(tenant_id, booking_id)
            if booking is not None:
                bookings.append(booking)
        return ConversationView(
            conversation=conversation,
            contact=await uow.contacts.get(tenant_id, conversation.caller),
            messages=tuple(await uow.messages.of_conversation(tenant_id, conversation.id)),
            calls=tuple(await uow.calls.of_conversation(tenant_id, conversation.id)),
            bookings=tuple(bookings),
        )
