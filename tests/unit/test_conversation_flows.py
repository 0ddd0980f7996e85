"""Conversations end to end on the in-memory fakes: missed call, text-back, the assistant's
quote and offers, booking, handoff, people stepping in, STOP/START/HELP, idle close, carrier
errors. The store's clock starts on Monday Jan 6 2025, 9:00 Chicago; the shop is open
Mon-Fri 8:00-17:00, with a 90-minute "Water heater flush" at $189.00 and one technician.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import attrs
import pytest

from nmc_adapters.memory import InMemoryStore
from nmc_domain.compliance.contacts import LedgerAction, OptOutSource
from nmc_domain.conversation.assistant import Decision, Quote, Turn
from nmc_domain.conversation.events import HandoffRequested
from nmc_domain.conversation.inbound import InboundOutcome
from nmc_domain.conversation.memory import Stage
from nmc_domain.conversation.model import ConversationStatus, OpenedBy
from nmc_domain.conversation.people import (
    close_conversation,
    list_conversations,
    release_conversation,
    send_person_text,
    take_over_conversation,
)
from nmc_domain.messaging.dispatch import DispatchOutcome, dispatch_message, give_up
from nmc_domain.messaging.errors import SmsOutcomeUnknown, SmsRejected
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import Author, MessageStatus
from nmc_domain.messaging.segments import count_segments, is_gsm7
from nmc_domain.messaging.status import MessageStatusReport, record_message_status
from nmc_domain.scheduling.booking import BookingStatus
from nmc_domain.scheduling.events import AppointmentBooked
from nmc_domain.scheduling.reservations import book
from nmc_domain.scheduling.setup import add_closure
from nmc_domain.shared.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from nmc_domain.telephony.missed_call import ReportOutcome
from nmc_domain.telephony.views import show_conversation
from tests.support.conversations import Shop, new_sid, open_shop

CALLER = "+14155550123"
OTHER = "+14155550177"

TEXT_BACK = (
    "Hi, this is ACME-PLUMBING. Sorry we missed your call! "
    "What can we help you with? Reply here and we'll get you sorted."
)
DISCLOSURE = "Automated assistant for ACME-PLUMBING. "
# Monday 9:00: an hour's notice makes 10:00 the first start; offers are two hours apart.
OFFERS_AT_NINE = (
    "Water heater flush: $189.00. Reply 1, 2 or 3 to book:\n"
    "1) Mon Jan 6, 10:00 AM\n"
    "2) Mon Jan 6, 12:00 PM\n"
    "3) Mon Jan 6, 2:00 PM"
)
BOOKED_AT_NOON = "You're booked: Water heater flush, Mon Jan 6, 12:00 PM, $189.00. See you then!"
ALL_SET = "You're all set. If you need anything else, just reply here."
HANDED_OFF = "Thanks! Someone from ACME-PLUMBING will text you back shortly."
CLARIFY = "Sorry, what do you need help with? For example: a leak, a water heater, a drain."
UNSUBSCRIBED = (
    "ACME-PLUMBING: you're unsubscribed and will get no more texts from us. "
    "Reply START to opt back in."
)
RESUBSCRIBED = "ACME-PLUMBING: you're subscribed to our texts again. Reply STOP to opt out."
JOB = "my water heater is leaking"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


@pytest.fixture
async def shop() -> Shop:
    return await open_shop()


async def offered(shop: Shop, caller: str = CALLER) -> None:
    """A missed call and the job: three offers held."""
    assert (await shop.call(caller)).outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert (await shop.text(caller, JOB)).outcome is InboundOutcome.ANSWERED
    assert len(shop.bookings(BookingStatus.HELD)) == 3


# --- the whole flow ------------------------------------------------------------------------


async def test_missed_call_to_booked_appointment(shop: Shop) -> None:
    called = await shop.call(CALLER)

    assert called.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert shop.bodies(CALLER) == [TEXT_BACK]
    conversation = shop.conversation(CALLER)
    assert (conversation.status, conversation.opened_by) == ("open", OpenedBy.CALL)
    assert conversation.text_back_id == called.message_id

    quoted = await shop.text(CALLER, JOB)

    assert quoted.outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER)[-1] == DISCLOSURE + OFFERS_AT_NINE
    held = sorted(shop.bookings(BookingStatus.HELD), key=lambda b: b.start)
    assert [b.start for b in held] == [utc(6, 16), utc(6, 18), utc(6, 20)]
    assert {b.conversation_id for b in held} == {conversation.id}
    assert {b.contact_phone for b in held} == {CALLER}
    assert {b.expires_at for b in held} == {utc(6, 15, 15)}  # 15-minute holds
    assert shop.conversation(CALLER).memory.stage is Stage.OFFERED

    picked = await shop.text(CALLER, "2", sid="SM" + "2" * 32)

    assert picked.outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER)[-1] == BOOKED_AT_NOON  # the disclosure went with the first
    [booked] = shop.bookings(BookingStatus.BOOKED)
    assert (booked.start, booked.price_cents, booked.currency) == (utc(6, 18), 18_900, "USD")
    assert booked.idempotency_key == "sms:SM" + "2" * 32
    assert sorted(b.start for b in shop.bookings(BookingStatus.RELEASED)) == [
        utc(6, 16),
        utc(6, 20),
    ]
    assert shop.bookings(BookingStatus.HELD) == []
    memory = shop.conversation(CALLER).memory
    assert (memory.stage, memory.appointment_id, memory.offers) == (Stage.BOOKED, booked.id, ())

    before = (len(shop.outbound()), dict(shop.store.bookings), len(shop.inbound(CALLER)))
    replayed = await shop.text(CALLER, "2", sid="SM" + "2" * 32)

    assert replayed.outcome is InboundOutcome.DUPLICATE
    assert (len(shop.outbound()), dict(shop.store.bookings), len(shop.inbound(CALLER))) == before

    again = await shop.text(CALLER, "2")

    assert again.outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER)[-1] == ALL_SET
    assert len(shop.bookings(BookingStatus.BOOKED)) == 1
    assert len(shop.events(AppointmentBooked)) == 1
    assert [m.author for m in shop.outbound(CALLER)] == [
        Author.TEXT_BACK,
        Author.ASSISTANT,
        Author.ASSISTANT,
        Author.ASSISTANT,
    ]


async def test_a_pick_after_the_holds_expired_gets_fresh_offers(shop: Shop) -> None:
    await offered(shop)
    first = {b.id for b in shop.bookings(BookingStatus.HELD)}
    shop.store.advance(16 * 60)  # 9:16, past the 15-minute holds

    result = await shop.text(CALLER, "2")

    assert result.outcome is InboundOutcome.ANSWERED
    # An hour's notice from 9:16 on a 30-minute grid: 10:30 first.
    assert shop.bodies(CALLER)[-1] == (
        "That time is no longer held, sorry. "
        "Water heater flush: $189.00. Reply 1, 2 or 3 to book:\n"
        "1) Mon Jan 6, 10:30 AM\n"
        "2) Mon Jan 6, 12:30 PM\n"
        "3) Mon Jan 6, 2:30 PM"
    )
    assert shop.bookings(BookingStatus.BOOKED) == []
    fresh = shop.bookings(BookingStatus.HELD)
    assert len(fresh) == 3
    assert not {b.id for b in fresh} & first
    assert {b.expires_at for b in fresh} == {utc(6, 15, 31)}

    assert (await shop.text(CALLER, "option 3")).outcome is InboundOutcome.ANSWERED
    [booked] = shop.bookings(BookingStatus.BOOKED)
    assert booked.start == utc(6, 20, 30)


async def test_a_pick_by_time_books_that_offer(shop: Shop) -> None:
    await offered(shop)

    await shop.text(CALLER, "2 pm works")

    [booked] = shop.bookings(BookingStatus.BOOKED)
    assert booked.start == utc(6, 20)


async def test_no_free_time_hands_off(shop: Shop) -> None:
    empty = await open_shop(hours=())  # no business hours: no slot ever

    await empty.call(CALLER)
    await empty.text(CALLER, JOB)

    assert empty.bodies(CALLER)[-1] == DISCLOSURE + HANDED_OFF
    assert empty.conversation(CALLER).status is ConversationStatus.HUMAN
    assert [e.reason for e in empty.events(HandoffRequested)] == ["no free times to offer"]


# --- handoff -------------------------------------------------------------------------------


async def test_no_catalog_match_asks_once_then_hands_off(shop: Shop) -> None:
    await shop.call(CALLER)

    await shop.text(CALLER, "hello, are you there?")

    assert shop.bodies(CALLER)[-1] == DISCLOSURE + CLARIFY
    conversation = shop.conversation(CALLER)
    assert (conversation.status, conversation.memory.stage) == ("open", Stage.CLARIFYING)
    assert shop.events(HandoffRequested) == []

    await shop.text(CALLER, "the thing in the basement")

    assert shop.bodies(CALLER)[-1] == HANDED_OFF
    conversation = shop.conversation(CALLER)
    assert (conversation.status, conversation.memory.stage) == ("human", Stage.HANDED_OFF)
    [handoff] = shop.events(HandoffRequested)
    assert (handoff.conversation_id, handoff.reason) == (conversation.id, "no catalog match")
    # The row is the wire event the worker routes to the owner.
    assert any(row.topic == "conversation.handoff_requested.v1" for row in shop.store.outbox_rows)


async def test_a_match_after_one_miss_still_quotes(shop: Shop) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, "hi")

    await shop.text(CALLER, "the water heater")

    assert shop.bodies(CALLER)[-1] == OFFERS_AT_NINE
    assert shop.conversation(CALLER).memory.misunderstood == 0


async def test_not_understood_twice_while_offered_hands_off_and_frees_the_holds(
    shop: Shop,
) -> None:
    await offered(shop)

    await shop.text(CALLER, "what?")

    assert shop.bodies(CALLER)[-1] == "Sorry, I didn't get that. Which time works? Reply 1, 2, 3."
    assert shop.conversation(CALLER).status is ConversationStatus.OPEN
    assert len(shop.bookings(BookingStatus.HELD)) == 3

    await shop.text(CALLER, "hmm dunno")

    assert shop.bodies(CALLER)[-1] == HANDED_OFF
    assert shop.conversation(CALLER).status is ConversationStatus.HUMAN
    assert shop.bookings(BookingStatus.HELD) == []
    assert len(shop.bookings(BookingStatus.RELEASED)) == 3
    assert [e.reason for e in shop.events(HandoffRequested)] == ["not understood"]


@pytest.mark.parametrize("text", ["talk to a human", "Can I speak to someone?", "call me"])
async def test_asking_for_a_person_hands_off_at_once(shop: Shop, text: str) -> None:
    await offered(shop)

    await shop.text(CALLER, text)

    assert shop.bodies(CALLER)[-1] == HANDED_OFF
    assert shop.conversation(CALLER).status is ConversationStatus.HUMAN
    assert shop.bookings(BookingStatus.HELD) == []
    assert [e.reason for e in shop.events(HandoffRequested)] == ["asked for a person"]


async def test_while_human_the_assistant_stays_silent(shop: Shop) -> None:
    await shop.call(CALLER)
    conversation = shop.conversation(CALLER)
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)

    result = await shop.text(CALLER, JOB)

    assert result.outcome is InboundOutcome.FOR_PERSON
    assert shop.bodies(CALLER) == [TEXT_BACK]
    assert shop.bookings() == []
    assert len(shop.inbound(CALLER)) == 1  # stored for the person to read


# --- people --------------------------------------------------------------------------------


async def test_take_over_release_and_close(shop: Shop) -> None:
    await offered(shop)
    conversation_id = shop.conversation(CALLER).id
    uow = shop.new_uow

    released = await release_conversation(uow(), shop.owner, conversation_id)
    assert released.status is ConversationStatus.OPEN  # releasing an open one: nothing happens
    assert released.memory.stage is Stage.OFFERED

    taken = await take_over_conversation(uow(), shop.owner, conversation_id)
    assert taken.status is ConversationStatus.HUMAN
    again = await take_over_conversation(uow(), shop.owner, conversation_id)
    assert again == taken  # twice: no change

    released = await release_conversation(uow(), shop.owner, conversation_id)
    assert released.status is ConversationStatus.OPEN
    # Back to the assistant with a clean slate, disclosure already made.
    assert (released.memory.stage, released.memory.disclosed) == (Stage.NEW, True)

    closed = await close_conversation(uow(), shop.owner, conversation_id)
    assert closed.status is ConversationStatus.CLOSED
    assert closed.closed_at == shop.store.now
    assert shop.bookings(BookingStatus.HELD) == []  # closing frees the offered times
    assert await close_conversation(uow(), shop.owner, conversation_id) == closed

    with pytest.raises(Conflict):
        await take_over_conversation(uow(), shop.owner, conversation_id)
    with pytest.raises(Conflict):
        await release_conversation(uow(), shop.owner, conversation_id)
    assert shop.store.conversations[shop.tenant.id, conversation_id].status == "closed"


async def test_a_blocked_conversation_cannot_be_taken_over_released_or_closed(shop: Shop) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, "STOP")
    conversation_id = shop.conversation(CALLER).id

    for move in (take_over_conversation, release_conversation, close_conversation):
        with pytest.raises(Conflict):
            await move(shop.new_uow(), shop.owner, conversation_id)
    assert shop.conversation(CALLER).status is ConversationStatus.BLOCKED


async def test_an_unknown_or_foreign_conversation_is_not_found(shop: Shop) -> None:
    other = await open_shop(store=shop.store, name="OTHER-PLUMBING")
    await other.call(CALLER)
    foreign = other.conversation(CALLER).id

    for move in (take_over_conversation, release_conversation, close_conversation):
        with pytest.raises(NotFound):
            await move(shop.new_uow(), shop.owner, foreign)
    with pytest.raises(NotFound):
        await send_person_text(shop.new_uow(), shop.owner, foreign, "hi")
    with pytest.raises(NotFound):
        await show_conversation(shop.new_uow(), shop.owner, foreign)


async def test_a_persons_text_is_queued_from_the_business_number(shop: Shop) -> None:
    await shop.call(CALLER)
    conversation = shop.conversation(CALLER)
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)
    shop.store.advance(60)

    message = await send_person_text(
        shop.new_uow(), shop.owner, conversation.id, "  Hi, Dana here. Tomorrow at 8?  "
    )

    assert (message.author, message.body, message.status) == (
        Author.PERSON,
        "Hi, Dana here. Tomorrow at 8?",
        MessageStatus.QUEUED,
    )
    assert (message.to, message.from_) == (CALLER, shop.number)
    assert shop.conversation(CALLER).last_activity_at == shop.store.now
    assert (await shop.run_worker())["message sent"] == 2  # the text-back and this one
    assert shop.sent_to(CALLER) == [TEXT_BACK, "Hi, Dana here. Tomorrow at 8?"]


@pytest.mark.parametrize("body", ["", "   ", "a" * 1531, "ж" * 671])
async def test_a_persons_text_must_be_one_to_ten_segments(shop: Shop, body: str) -> None:
    await shop.call(CALLER)

    with pytest.raises(InvalidInput) as raised:
        await send_person_text(shop.new_uow(), shop.owner, shop.conversation(CALLER).id, body)

    assert raised.value.field == "body"
    assert shop.bodies(CALLER) == [TEXT_BACK]


async def test_a_persons_text_is_refused_before_compliance_approval() -> None:
    pending = await open_shop(approved=False)
    await pending.call(CALLER)

    with pytest.raises(PermissionDenied):
        await send_person_text(
            pending.new_uow(), pending.owner, pending.conversation(CALLER).id, "hi"
        )

    assert pending.bodies(CALLER) == [TEXT_BACK]
    # The text-back itself waits for approval instead of going out.
    assert (await pending.run_worker())["message held"] == 1
    assert pending.sender.sent == []


async def test_a_persons_text_is_refused_when_opted_out_or_closed(shop: Shop) -> None:
    await shop.call(CALLER)
    conversation_id = shop.conversation(CALLER).id
    await shop.text(CALLER, "STOP")

    with pytest.raises(PermissionDenied, match="opted out"):
        await send_person_text(shop.new_uow(), shop.owner, conversation_id, "sorry to see you go")

    await shop.call(OTHER)
    closed = await close_conversation(shop.new_uow(), shop.owner, shop.conversation(OTHER).id)
    with pytest.raises(Conflict):
        await send_person_text(shop.new_uow(), shop.owner, closed.id, "are you still there?")
    assert shop.bodies(CALLER) == [TEXT_BACK, UNSUBSCRIBED]
    assert shop.bodies(OTHER) == [TEXT_BACK]


async def test_a_persons_text_to_a_number_that_cannot_take_texts_is_refused(shop: Shop) -> None:
    await shop.call(CALLER)
    [text_back] = shop.outbound(CALLER)
    await status(shop, text_back.id, "undelivered", "30006")

    with pytest.raises(PermissionDenied, match="cannot take texts"):
        await send_person_text(shop.new_uow(), shop.owner, shop.conversation(CALLER).id, "hi")


async def test_the_inbox_lists_and_shows_conversations(shop: Shop) -> None:
    await shop.call(CALLER)
    shop.store.advance(1)  # one clock for the whole store: a second apart, they sort
    await shop.text(CALLER, JOB)
    shop.store.advance(1)
    await shop.call(OTHER)
    await take_over_conversation(shop.new_uow(), shop.owner, shop.conversation(OTHER).id)

    human = await list_conversations(shop.new_uow(), shop.owner, ConversationStatus.HUMAN, None, 10)
    everyone = await list_conversations(shop.new_uow(), shop.owner, None, None, 10)

    assert [c.caller for c in human.items] == [OTHER]
    assert {c.caller for c in everyone.items} == {CALLER, OTHER}
    view = await show_conversation(shop.new_uow(), shop.owner, shop.conversation(CALLER).id)
    assert [(type(m).__name__, m.body) for m in view.messages] == [
        ("OutboundMessage", TEXT_BACK),
        ("InboundMessage", JOB),
        (
            "OutboundMessage",
            # 9:00:01 plus an hour's notice: the 30-minute grid starts at 10:30.
            DISCLOSURE + "Water heater flush: $189.00. Reply 1, 2 or 3 to book:\n"
            "1) Mon Jan 6, 10:30 AM\n2) Mon Jan 6, 12:30 PM\n3) Mon Jan 6, 2:30 PM",
        ),
    ]
    assert [(c.caller, c.outcome) for c in view.calls] == [(CALLER, "missed")]
    assert sorted(b.start for b in view.bookings) == [
        utc(6, 16, 30),
        utc(6, 18, 30),
        utc(6, 20, 30),
    ]
    assert {b.status for b in view.bookings} == {BookingStatus.HELD}
    assert view.contact.opted_out is False


# --- STOP, START, HELP ---------------------------------------------------------------------


@pytest.mark.parametrize("stop", ["STOP", "stop", " Stop please", "STOP!!", "opt out", "Quit"])
async def test_stop_opts_out_blocks_and_cancels_what_waits(shop: Shop, stop: str) -> None:
    await offered(shop)  # a text-back and the offers wait for the worker
    waiting = [m.id for m in shop.outbound(CALLER)]

    result = await shop.text(CALLER, stop)

    assert result.outcome is InboundOutcome.OPTED_OUT
    [entry] = shop.ledger(CALLER)
    assert (entry.action, entry.source, entry.text) == (
        LedgerAction.OPT_OUT,
        OptOutSource.KEYWORD,
        stop,
    )
    assert entry.message_id == result.message_id
    assert entry.occurred_at == shop.store.now
    assert shop.contact(CALLER).opted_out
    assert shop.conversation(CALLER).status is ConversationStatus.BLOCKED
    assert shop.bookings(BookingStatus.HELD) == []  # the offered times are free again
    for message_id in waiting:
        assert shop.store.messages[shop.tenant.id, message_id].status == "canceled"

    outcomes = await shop.run_worker()

    assert shop.sent_to(CALLER) == [UNSUBSCRIBED]
    assert outcomes["message sent"] == 1
    [confirmation] = [m for m in shop.outbound(CALLER) if m.status != "canceled"]
    assert confirmation.author is Author.COMPLIANCE

    again = await shop.text(CALLER, "STOP")

    assert again.outcome is InboundOutcome.OPTED_OUT
    assert len(shop.ledger(CALLER)) == 2  # the ledger keeps every one
    await shop.run_worker()
    assert shop.sent_to(CALLER) == [UNSUBSCRIBED]  # but one confirmation only


async def test_after_stop_nothing_else_goes_out(shop: Shop) -> None:
    await shop.call(CALLER)
    shop.sender.hang_next()  # the text-back is marked as attempted, outcome unknown
    with pytest.raises(SmsOutcomeUnknown):
        await shop.run_worker()
    [text_back] = shop.outbound(CALLER)
    await take_over_conversation(shop.new_uow(), shop.owner, shop.conversation(CALLER).id)

    await shop.text(CALLER, "STOP")
    # The attempted text-back is not canceled by the STOP (it may have left already)...
    assert shop.store.messages[shop.tenant.id, text_back.id].status == "queued"

    # ...but the worker's retry of it is refused: canceled, never sent again.
    retry = await dispatch_message(
        shop.new_uow, shop.sender, MessageQueued(shop.tenant.id, text_back.id)
    )
    assert retry is DispatchOutcome.BLOCKED
    assert shop.store.messages[shop.tenant.id, text_back.id].status == "canceled"
    await shop.run_worker()
    sent = shop.sent_to(CALLER)
    assert sent == [TEXT_BACK, UNSUBSCRIBED]  # the text-back once (the hung attempt), no more
    # A new missed call: recorded, no text-back.
    called = await shop.call(CALLER)
    assert called.outcome is ReportOutcome.CALLER_OPTED_OUT
    assert [c.conversation_id for c in shop.store.calls.values()] == [
        shop.conversation(CALLER).id
    ] * 2
    # The assistant: silent.
    assert (await shop.text(CALLER, JOB)).outcome is InboundOutcome.SILENT
    # A person: 403.
    with pytest.raises(PermissionDenied):
        await send_person_text(shop.new_uow(), shop.owner, shop.conversation(CALLER).id, "hi?")

    await shop.run_worker()
    assert shop.sent_to(CALLER) == sent
    assert shop.bookings() == []


async def test_a_stop_from_a_stranger_is_recorded_too(shop: Shop) -> None:
    result = await shop.text(CALLER, "UNSUBSCRIBE")

    assert result.outcome is InboundOutcome.OPTED_OUT
    assert shop.contact(CALLER).opted_out
    conversation = shop.conversation(CALLER)
    assert (conversation.status, conversation.opened_by) == ("blocked", OpenedBy.TEXT)
    assert (await shop.call(CALLER)).outcome is ReportOutcome.CALLER_OPTED_OUT
    assert shop.bodies(CALLER) == [UNSUBSCRIBED]


@pytest.mark.parametrize("start", ["START", "unstop", "Yes", "yes please"])
async def test_start_opts_back_in(shop: Shop, start: str) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, "STOP")
    blocked = shop.conversation(CALLER)

    result = await shop.text(CALLER, start)

    assert result.outcome is InboundOutcome.OPTED_IN
    assert [(e.action, e.text) for e in shop.ledger(CALLER)] == [
        (LedgerAction.OPT_OUT, "STOP"),
        (LedgerAction.OPT_IN, start),
    ]
    assert not shop.contact(CALLER).opted_out
    reopened = shop.conversation(CALLER)
    assert (reopened.id, reopened.status) == (blocked.id, ConversationStatus.OPEN)
    await shop.run_worker()
    assert shop.sent_to(CALLER) == [UNSUBSCRIBED, RESUBSCRIBED]

    # Opted in already: the next START is just a text for the assistant.
    assert (await shop.text(CALLER, "START")).outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER)[-1] == DISCLOSURE + CLARIFY
    assert (await shop.text(CALLER, JOB)).outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER)[-1] == OFFERS_AT_NINE
    await shop.run_worker()
    assert len(shop.sent_to(CALLER)) == 4


async def test_yes_from_a_number_that_never_opted_out_goes_to_the_assistant(shop: Shop) -> None:
    await shop.call(CALLER)

    result = await shop.text(CALLER, "yes, the water heater")

    assert result.outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER)[-1] == DISCLOSURE + OFFERS_AT_NINE
    assert shop.ledger(CALLER) == []


@pytest.mark.parametrize("word", ["HELP", "info", "Help?"])
async def test_help_answers_with_the_business_and_its_contact_line(shop: Shop, word: str) -> None:
    result = await shop.text(CALLER, word)

    assert result.outcome is InboundOutcome.HELP
    [answer] = shop.outbound(CALLER)
    assert answer.body == f"ACME-PLUMBING: {shop.tenant.forward_to}. Reply STOP to opt out."
    assert answer.author is Author.COMPLIANCE

    await shop.settings(help_contact="Call 415-867-5309 or visit acme.example")
    await shop.text(CALLER, word)

    assert shop.bodies(CALLER)[-1] == (
        "ACME-PLUMBING: Call 415-867-5309 or visit acme.example. Reply STOP to opt out."
    )


async def test_help_is_answered_even_after_stop(shop: Shop) -> None:
    await shop.text(CALLER, "STOP")

    assert (await shop.text(CALLER, "HELP")).outcome is InboundOutcome.HELP
    await shop.run_worker()

    assert shop.sent_to(CALLER) == [
        UNSUBSCRIBED,
        f"ACME-PLUMBING: {shop.tenant.forward_to}. Reply STOP to opt out.",
    ]
    assert shop.contact(CALLER).opted_out


# --- idle close ----------------------------------------------------------------------------


async def test_silence_closes_a_conversation_after_the_idle_hours(shop: Shop) -> None:
    await offered(shop)
    shop.store.advance(24 * 3600 - 1)

    assert (await shop.run_worker(messages=False))["idle closed"] == 0
    assert shop.conversation(CALLER).status is ConversationStatus.OPEN

    shop.store.advance(1)
    outcomes = await shop.run_worker(messages=False)

    assert outcomes["idle closed"] == 1
    [closed] = shop.conversations(CALLER)
    assert (closed.status, closed.closed_at) == (ConversationStatus.CLOSED, shop.store.now)
    assert closed.memory.offers == ()


async def test_activity_postpones_the_idle_close(shop: Shop) -> None:
    await shop.settings(conversation_idle_hours=2)
    await shop.call(CALLER)
    shop.store.advance(3600)
    await shop.text(CALLER, "hello?")  # 10:00: silence now ends at 12:00
    shop.store.advance(3600)

    assert (await shop.run_worker(messages=False))["idle still_active"] == 1  # 11:00
    assert shop.conversation(CALLER).status is ConversationStatus.OPEN

    shop.store.advance(3599)
    assert (await shop.run_worker(messages=False)) == {}  # 11:59:59: the check is not due
    shop.store.advance(1)
    assert (await shop.run_worker(messages=False))["idle closed"] == 1  # 12:00
    assert shop.conversations(CALLER)[0].status is ConversationStatus.CLOSED


async def test_a_human_conversation_closes_too_and_a_blocked_one_stays(shop: Shop) -> None:
    await shop.call(CALLER)
    await take_over_conversation(shop.new_uow(), shop.owner, shop.conversation(CALLER).id)
    await shop.call(OTHER)
    await shop.text(OTHER, "STOP")
    shop.store.advance(24 * 3600)

    outcomes = await shop.run_worker(messages=False)

    assert (outcomes["idle closed"], outcomes["idle done"]) == (1, 1)
    assert shop.conversations(CALLER)[0].status is ConversationStatus.CLOSED
    assert shop.conversation(OTHER).status is ConversationStatus.BLOCKED


async def test_a_conversation_reopened_by_start_still_closes_when_silent(shop: Shop) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, "STOP")
    shop.store.advance(24 * 3600)
    assert (await shop.run_worker(messages=False))["idle done"] == 1  # blocked: it stays
    shop.store.advance(3600)
    await shop.text(CALLER, "START")

    shop.store.advance(24 * 3600)
    await shop.run_worker(messages=False)

    assert shop.conversations(CALLER)[0].status is ConversationStatus.CLOSED
    assert (await shop.call(CALLER)).outcome is ReportOutcome.TEXT_BACK_QUEUED


async def test_a_closed_conversation_stays_closed_and_the_next_call_opens_a_new_one(
    shop: Shop,
) -> None:
    await shop.call(CALLER)
    first = shop.conversation(CALLER)
    await close_conversation(shop.new_uow(), shop.owner, first.id)
    shop.store.advance(600)

    called = await shop.call(CALLER)

    assert called.outcome is ReportOutcome.TEXT_BACK_QUEUED
    old, new = shop.conversations(CALLER)
    assert (old.id, old.status) == (first.id, ConversationStatus.CLOSED)
    assert new.status is ConversationStatus.OPEN
    assert new.id == called.conversation_id != first.id
    assert shop.bodies(CALLER) == [TEXT_BACK, TEXT_BACK]
    # A text after the close goes to the new one, which discloses the assistant afresh.
    await shop.text(CALLER, JOB)
    assert shop.bodies(CALLER)[-1] == (
        DISCLOSURE + "Water heater flush: $189.00. Reply 1, 2 or 3 to book:\n"
        "1) Mon Jan 6, 10:30 AM\n"
        "2) Mon Jan 6, 12:30 PM\n"
        "3) Mon Jan 6, 2:30 PM"
    )
    assert shop.inbound(CALLER)[0].conversation_id == new.id


async def test_a_text_after_the_close_opens_a_new_conversation(shop: Shop) -> None:
    await shop.call(CALLER)
    first = shop.conversation(CALLER)
    await close_conversation(shop.new_uow(), shop.owner, first.id)

    await shop.text(CALLER, "hello again")

    new = shop.conversation(CALLER)
    assert new.id != first.id
    assert (new.opened_by, new.text_back_id) == (OpenedBy.TEXT, None)
    assert shop.bodies(CALLER) == [TEXT_BACK, DISCLOSURE + CLARIFY]


# --- repeated calls and failed text-backs ---------------------------------------------------


async def test_a_second_missed_call_while_open_or_human_sends_no_second_text_back(
    shop: Shop,
) -> None:
    await shop.call(CALLER)
    conversation = shop.conversation(CALLER)

    assert (await shop.call(CALLER)).outcome is ReportOutcome.CONVERSATION_OPEN
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)
    assert (await shop.call(CALLER, "busy")).outcome is ReportOutcome.CONVERSATION_OPEN

    assert shop.bodies(CALLER) == [TEXT_BACK]
    calls = list(shop.store.calls.values())
    assert [(c.caller, c.conversation_id) for c in calls] == [(CALLER, conversation.id)] * 3
    assert [c.reason for c in calls] == ["no_answer", "no_answer", "busy"]


async def test_a_conversation_the_contact_opened_gets_no_text_back_on_a_call(shop: Shop) -> None:
    await shop.text(CALLER, "hi, do you do water heaters?")

    assert (await shop.call(CALLER)).outcome is ReportOutcome.CONVERSATION_OPEN
    assert [m.author for m in shop.outbound(CALLER)] == [Author.ASSISTANT]


async def status(shop: Shop, message_id: object, value: str, code: str | None = None) -> None:
    message = shop.store.messages[shop.tenant.id, message_id]
    report = MessageStatusReport(
        message.id, shop.number, message.provider_sid or new_sid(), value, code
    )
    await record_message_status(shop.new_uow(), report)


@pytest.mark.parametrize(("value", "code"), [("failed", "30003"), ("undelivered", "30005")])
async def test_a_failed_text_back_is_sent_again_on_the_next_call(
    shop: Shop, value: str, code: str
) -> None:
    first = await shop.call(CALLER)
    await shop.run_worker()
    await status(shop, first.message_id, value, code)
    assert shop.store.messages[shop.tenant.id, first.message_id].error == f"provider error {code}"

    second = await shop.call(CALLER)

    assert second.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert second.conversation_id == first.conversation_id
    assert shop.conversation(CALLER).text_back_id == second.message_id != first.message_id
    assert (await shop.call(CALLER)).outcome is ReportOutcome.CONVERSATION_OPEN  # once more: no
    await shop.run_worker()
    assert shop.sent_to(CALLER) == [TEXT_BACK, TEXT_BACK]
    assert shop.contact(CALLER).textable  # those codes say nothing about the number


async def test_a_text_back_the_outbox_gave_up_on_is_sent_again(shop: Shop) -> None:
    first = await shop.call(CALLER)
    await give_up(shop.new_uow, MessageQueued(shop.tenant.id, first.message_id), "timed out")
    assert shop.store.messages[shop.tenant.id, first.message_id].status == "failed"

    second = await shop.call(CALLER)

    assert second.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert shop.bodies(CALLER) == [TEXT_BACK, TEXT_BACK]


async def test_a_delivered_text_back_is_not_sent_again(shop: Shop) -> None:
    first = await shop.call(CALLER)
    await shop.run_worker()
    await status(shop, first.message_id, "delivered")

    assert (await shop.call(CALLER)).outcome is ReportOutcome.CONVERSATION_OPEN
    assert len(shop.outbound(CALLER)) == 1


async def test_carrier_opt_out_21610_is_a_ledger_entry(shop: Shop) -> None:
    first = await shop.call(CALLER)
    shop.sender.fail_next(SmsRejected("21610", "Attempt to send to unsubscribed recipient"))

    assert (await shop.run_worker())["message rejected"] == 1

    [entry] = shop.ledger(CALLER)
    assert (entry.action, entry.source, entry.message_id) == (
        LedgerAction.OPT_OUT,
        OptOutSource.CARRIER,
        first.message_id,
    )
    assert entry.text == "carrier error 21610"
    assert shop.contact(CALLER).opted_out
    assert (await shop.call(CALLER)).outcome is ReportOutcome.CALLER_OPTED_OUT
    assert (await shop.text(CALLER, JOB)).outcome is InboundOutcome.SILENT
    assert len(shop.outbound(CALLER)) == 1


@pytest.mark.parametrize("code", ["21614", "30006"])
async def test_not_textable_codes_stop_later_text_backs(shop: Shop, code: str) -> None:
    first = await shop.call(CALLER)
    await shop.run_worker()
    await status(shop, first.message_id, "undelivered", code)

    contact = shop.contact(CALLER)
    assert (contact.textable, contact.not_textable_reason) == (False, f"carrier error {code}")
    assert not contact.opted_out
    assert shop.ledger(CALLER) == []
    await close_conversation(shop.new_uow(), shop.owner, first.conversation_id)

    again = await shop.call(CALLER)

    assert again.outcome is ReportOutcome.CALLER_OPTED_OUT
    assert again.conversation_id != first.conversation_id
    assert len(shop.outbound(CALLER)) == 1
    assert (await shop.text(CALLER, "HELP")).outcome is InboundOutcome.HELP
    assert len(shop.outbound(CALLER)) == 1  # not even HELP reaches a landline


async def test_a_rejected_send_with_a_not_textable_code_marks_the_contact(shop: Shop) -> None:
    await shop.call(CALLER)
    shop.sender.fail_next(SmsRejected("21614", "not a mobile number"))

    await shop.run_worker()

    assert not shop.contact(CALLER).textable


# --- the text-back's words -----------------------------------------------------------------


async def test_after_hours_the_text_back_says_when_the_business_opens() -> None:
    # Friday Jan 10 2025, 6:30 pm Chicago: closed until Monday 8:00.
    shop = await open_shop(store=InMemoryStore(now=datetime(2025, 1, 11, 0, 30, tzinfo=UTC)))

    await shop.call(CALLER)

    assert shop.bodies(CALLER) == [
        "Hi, this is ACME-PLUMBING. Sorry we missed your call! We're closed now and open "
        "again Mon Jan 13, 8:00 AM. Reply here with what you need and we'll get back to you."
    ]


async def test_after_hours_skips_a_closed_day() -> None:
    shop = await open_shop(store=InMemoryStore(now=datetime(2025, 1, 11, 0, 30, tzinfo=UTC)))
    await add_closure(shop.new_uow(), shop.owner, day=date(2025, 1, 13), reason="MLK Day")

    await shop.call(CALLER)

    assert "open again Tue Jan 14, 8:00 AM." in shop.bodies(CALLER)[0]


async def test_before_opening_the_text_back_names_this_mornings_opening() -> None:
    # Monday 7:15 am Chicago.
    shop = await open_shop(store=InMemoryStore(now=datetime(2025, 1, 6, 13, 15, tzinfo=UTC)))
    await shop.settings(after_hours_template="{business_name} opens {next_open}.")

    await shop.call(CALLER)

    assert shop.bodies(CALLER) == ["ACME-PLUMBING opens Mon Jan 6, 8:00 AM."]


async def test_without_business_hours_the_normal_text_back_goes() -> None:
    shop = await open_shop(
        hours=(), store=InMemoryStore(now=datetime(2025, 1, 11, 0, 30, tzinfo=UTC))
    )

    await shop.call(CALLER)

    assert shop.bodies(CALLER) == [TEXT_BACK]


# --- the assistant's words -----------------------------------------------------------------


async def test_only_the_first_assistant_text_carries_the_disclosure(shop: Shop) -> None:
    await shop.settings(assistant_disclosure="You're texting {business_name}'s bot")
    await shop.call(CALLER)

    await shop.text(CALLER, "hello")
    await shop.text(CALLER, JOB)
    await shop.text(CALLER, "1")

    assert shop.bodies(CALLER) == [
        TEXT_BACK,
        "You're texting ACME-PLUMBING's bot. " + CLARIFY,
        OFFERS_AT_NINE,
        "You're booked: Water heater flush, Mon Jan 6, 10:00 AM, $189.00. See you then!",
    ]


async def test_assistant_texts_are_gsm7_and_two_segments_whatever_the_names() -> None:
    business = "🔧 Plomberie Ñandú & Fils — “Chez Zoë” ✨ 🚿💧🔥 Señor Açaí Über-Fix 🛁"
    item = "Réparation du chauffe-eau ✨💧 (tout compris) — garantie “sérénité” 🔥"
    shop = await open_shop(name=business, item=item, aliases=("water heater",))
    await shop.settings(assistant_disclosure="Automated assistant for {business_name} 🤖🤖🤖")

    await shop.call(CALLER)
    await shop.text(CALLER, "hi")  # clarify, with the disclosure
    await shop.text(CALLER, JOB)  # offers
    shop.store.advance(20 * 60)
    await shop.text(CALLER, "2")  # holds expired: fresh offers with a lead
    await shop.text(CALLER, "what")  # not understood
    await shop.text(CALLER, "3")  # booked
    await shop.text(CALLER, "thanks")  # all set
    await shop.text(CALLER, "talk to a person")  # handoff
    await shop.text(OTHER, "HELP")
    await shop.text(OTHER, "STOP")
    await shop.text(OTHER, "START")

    automated = [m for m in shop.outbound() if m.author in (Author.ASSISTANT, Author.COMPLIANCE)]
    assert len(automated) == 10
    for message in automated:
        assert is_gsm7(message.body), message.body
        assert count_segments(message.body).count <= 2, message.body
    booked = [m.body for m in automated if m.body.startswith("You're booked")]
    assert booked == [
        'You\'re booked: Réparation du chauffe-eau  (tout compris) - garantie "sérénité" , '
        "Mon Jan 6, 2:30 PM, $189.00. See you then!"
    ]


async def test_the_longest_names_never_cut_the_offered_times() -> None:
    shop = await open_shop(name="Ç" * 100, item="É" * 100, aliases=("water heater",))

    await shop.call(CALLER)
    await shop.text(CALLER, JOB)

    body = shop.bodies(CALLER)[-1]
    assert count_segments(body).count <= 2
    assert body.startswith("Automated assistant for ÇÇÇ")  # the disclosure is shortened...
    assert body.endswith(  # ...never the times the contact picks from
        "É" * 100 + ": $189.00. Reply 1, 2 or 3 to book:\n"
        "1) Mon Jan 6, 10:00 AM\n2) Mon Jan 6, 12:00 PM\n3) Mon Jan 6, 2:00 PM"
    )


async def test_a_quoted_item_that_is_gone_hands_off(shop: Shop) -> None:
    await offered(shop)
    [item] = shop.items
    key = (shop.tenant.id, item.id)
    shop.store.catalog_items[key] = attrs.evolve(shop.store.catalog_items[key], active=False)

    await shop.text(CALLER, "the water heater")  # quoted again: nothing active matches
    assert shop.bodies(CALLER)[-1] == "Sorry, I didn't get that. Which time works? Reply 1, 2, 3."

    del shop.store.catalog_items[key]
    await shop.text(CALLER, "1")

    assert shop.bodies(CALLER)[-1] == HANDED_OFF
    assert [e.reason for e in shop.events(HandoffRequested)] == ["the quoted item is gone"]


class QuotesAGhost:
    """An assistant (the port is pluggable) that quotes an item the catalog does not have."""

    async def decide(self, turn: Turn) -> Decision:
        return Quote(uuid.uuid4())


async def test_a_quote_of_an_unknown_item_hands_off(shop: Shop) -> None:
    shop.assistant = QuotesAGhost()

    await shop.text(CALLER, JOB)

    assert shop.bodies(CALLER) == [DISCLOSURE + HANDED_OFF]
    assert [e.reason for e in shop.events(HandoffRequested)] == ["the matched item is gone"]


async def test_an_offer_booked_through_the_api_survives_the_conversation_closing() -> None:
    shop = await open_shop()
    await shop.call(CALLER)
    await shop.text(CALLER, "my water heater is leaking")
    conversation = shop.conversation(CALLER)
    offers = conversation.memory.offers
    assert len(offers) == 3
    async with shop.new_uow() as uow:  # a person books offer 1 for the caller directly
        await book(uow, shop.tenant.id, offers[0].hold_id, "owner-books-it")
        await uow.commit()

    await close_conversation(shop.new_uow(), shop.owner, conversation.id)

    statuses = {b.id: b.status for b in shop.bookings()}
    assert statuses[offers[0].hold_id] is BookingStatus.BOOKED
    assert statuses[offers[1].hold_id] is BookingStatus.RELEASED
    assert statuses[offers[2].hold_id] is BookingStatus.RELEASED
