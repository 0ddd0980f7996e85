"""Carrying out the assistant's decisions: offers held, a pick booked, a person called in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import uuid5
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.catalog.model import ServiceItem
from nmc_domain.conversation import texts
from nmc_domain.conversation.assistant import Ask, Book, Decision, Handoff, Quote, Say
from nmc_domain.conversation.events import HandoffRequested
from nmc_domain.conversation.handoffs import new_handoff
from nmc_domain.conversation.memory import Memory, Offer, Stage
from nmc_domain.conversation.model import Conversation
from nmc_domain.conversation.ports import ConversationUnitOfWork
from nmc_domain.scheduling.availability import Slot
from nmc_domain.scheduling.booking import BookingStatus
from nmc_domain.scheduling.errors import HoldExpired, NotBookable, SlotTaken
from nmc_domain.scheduling.external_busy import CalendarCheck, drop_externally_busy
from nmc_domain.scheduling.model import Technician
from nmc_domain.scheduling.reservations import (
    MAX_WINDOW,
    HoldRequest,
    book,
    place_hold,
    release,
    search,
)
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant

__all__ = ["OFFERS", "Outcome", "carry_out", "release_offers"]

OFFERS = 3
# Offers at least this far apart: three starts half an hour apart are one choice, not three.
_APART = timedelta(hours=2)
_CANDIDATES = 24


@attrs.frozen
class Outcome:
    """The conversation after the move, and what to text the contact (None: nothing)."""

    conversation: Conversation
    reply: str | None


async def release_offers(uow: ConversationUnitOfWork, conversation: Conversation) -> None:
    """Free the times still held for this conversation's offers (one booked meanwhile, say by
    a person through the API, is the customer's appointment now: it stays)."""
    for offer in conversation.memory.offers:
        hold = await uow.bookings.get(conversation.tenant_id, offer.hold_id, lock=RowLock.UPDATE)
        if hold is not None and hold.status is BookingStatus.HELD:
            await release(uow, conversation.tenant_id, offer.hold_id)


def _apart(slot: Slot, chosen: Sequence[Offer]) -> bool:
    return all(abs(slot.start - offer.start) >= _APART for offer in chosen)


async def _hold_offers(
    uow: ConversationUnitOfWork,
    tenant: Tenant,
    conversation: Conversation,
    item: ServiceItem,
    calendars: CalendarCheck | None,
) -> tuple[Offer, ...]:
    """Hold up to three well-spread free times. A time lost to another conversation meanwhile,
    or whose technician someone is claiming time of right now, is tried with the next
    technician free then, and then the next time (holding several technicians' times without
    waiting for their locks cannot deadlock). Technicians' own calendars, when their last sync
    is stale, are asked about the candidates first (`calendars`)."""
    now = await uow.now()

    def prefer(technician: Technician) -> str:
        # Each conversation tries the technicians in an order of its own: conversations
        # offering at the same moment spread over the team instead of all asking the first.
        return uuid5(conversation.id, str(technician.id)).hex

    slots = await search(
        uow,
        tenant,
        item,
        start=now,
        end=now + MAX_WINDOW,
        limit=_CANDIDATES,
        prefer=prefer,
        alternatives=True,
    )
    slots = await drop_externally_busy(uow, calendars, tenant.id, slots, now)
    offers: list[Offer] = []
    for slot in slots:
        if len(offers) == OFFERS:
            break
        if not _apart(slot, offers):  # also skips the other technicians of a start held
            continue
        request = HoldRequest(
            item.id, slot.technician_id, slot.start, conversation.caller, conversation.id
        )
        try:
            hold = await place_hold(uow, tenant, request, wait=False)
        except (SlotTaken, NotBookable):
            continue
        offers.append(Offer(len(offers) + 1, hold.id, hold.technician_id, hold.start, hold.end))
    return tuple(offers)


async def _quote(
    uow: ConversationUnitOfWork,
    tenant: Tenant,
    conversation: Conversation,
    item: ServiceItem,
    calendars: CalendarCheck | None,
    lead: str = "",
) -> Outcome:
    await release_offers(uow, conversation)
    offers = await _hold_offers(uow, tenant, conversation, item, calendars)
    price = texts.money(item.price_cents, item.currency)
    if not offers:
        return await _hand_off(uow, tenant, conversation, "no free times to offer")
    memory = Memory(
        stage=Stage.OFFERED,
        item_id=item.id,
        offers=offers,
        disclosed=conversation.memory.disclosed,
    )
    reply = lead + texts.offers(item.name, price, offers, ZoneInfo(tenant.timezone))
    return Outcome(attrs.evolve(conversation, memory=memory), reply)


async def _hand_off(
    uow: ConversationUnitOfWork, tenant: Tenant, conversation: Conversation, reason: str
) -> Outcome:
    await release_offers(uow, conversation)
    now = await uow.now()
    memory = attrs.evolve(conversation.memory, stage=Stage.HANDED_OFF, offers=())
    handed = attrs.evolve(conversation.take_over(now), memory=memory)
    if handed.status is not conversation.status:
        await uow.handoffs.add(new_handoff(tenant.id, conversation.id, now, reason))
    await uow.outbox.add(HandoffRequested(tenant.id, conversation.id, reason))
    return Outcome(handed, texts.handed_off(tenant.name))


async def _book(
    uow: ConversationUnitOfWork,
    tenant: Tenant,
    conversation: Conversation,
    offer: Offer,
    key: str,
    calendars: CalendarCheck | None,
) -> Outcome:
    memory = conversation.memory
    item = await uow.catalog.get(tenant.id, memory.item_id) if memory.item_id else None
    if item is None:
        return await _hand_off(uow, tenant, conversation, "the quoted item is gone")
    try:
        booked, _ = await book(uow, tenant.id, offer.hold_id, key)
    except HoldExpired:
        lead = "That time is no longer held, sorry. "
        return await _quote(uow, tenant, conversation, item, calendars, lead=lead)
    others = attrs.evolve(conversation, memory=attrs.evolve(memory, offers=tuple(
        other for other in memory.offers if other.hold_id != offer.hold_id
    )))  # fmt: skip
    await release_offers(uow, others)
    price = texts.money(booked.price_cents or 0, booked.currency or item.currency)
    reply = texts.booked(item.name, booked.start, price, ZoneInfo(tenant.timezone))
    done = Memory(
        stage=Stage.BOOKED, item_id=item.id, disclosed=memory.disclosed, appointment_id=booked.id
    )
    return Outcome(attrs.evolve(conversation, memory=done), reply)


async def carry_out(
    uow: ConversationUnitOfWork,
    tenant: Tenant,
    conversation: Conversation,
    decision: Decision,
    *,
    key: str,
    calendars: CalendarCheck | None = None,
) -> Outcome:
    """The decision, done, in this unit of work; `key` makes a booking idempotent;
    `calendars` re-checks offers against technicians' own calendars."""
    memory = conversation.memory
    if isinstance(decision, Quote):
        item = await uow.catalog.get(tenant.id, decision.item_id)
        if item is None or not item.active:
            return await _hand_off(uow, tenant, conversation, "the matched item is gone")
        return await _quote(uow, tenant, conversation, item, calendars)
    if isinstance(decision, Book):
        return await _book(uow, tenant, conversation, decision.offer, key, calendars)
    if isinstance(decision, Handoff):
        return await _hand_off(uow, tenant, conversation, decision.reason)
    if isinstance(decision, Ask):
        stage = Stage.CLARIFYING if memory.stage is Stage.NEW else memory.stage
        changed = attrs.evolve(memory, stage=stage, misunderstood=memory.misunderstood + 1)
        return Outcome(attrs.evolve(conversation, memory=changed), texts.fit(decision.text))
    assert isinstance(decision, Say)
    return Outcome(conversation, texts.fit(decision.text))
