"""A lapsed plan on the in-memory fakes: no text-backs and no assistant replies, but every call
and text recorded (reason billing_inactive), the carrier's STOP/START/HELP answered, people free
to answer, and nothing held back sent late once the plan is active again.

Billing is enforced here (Stripe configured); the shop has no subscription unless a test saves
one. The store's clock starts on Monday Jan 6 2025, 9:00 Chicago (15:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nmc_domain.billing.model import BillingTerms, Subscription, SubscriptionStatus
from nmc_domain.conversation.inbound import InboundOutcome
from nmc_domain.conversation.model import ConversationStatus, OpenedBy
from nmc_domain.conversation.people import send_person_text, take_over_conversation
from nmc_domain.conversation.sending import queue_text
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import Author
from nmc_domain.telephony.missed_call import ReportOutcome
from tests.support.conversations import Shop, open_shop

CALLER = "+14155550123"
OTHER = "+14155550177"
TEXT_BACK = (
    "Hi, this is ACME-PLUMBING. Sorry we missed your call! "
    "What can we help you with? Reply here and we'll get you sorted."
)
UNSUBSCRIBED = (
    "ACME-PLUMBING: you're unsubscribed and will get no more texts from us. "
    "Reply START to opt back in."
)
RESUBSCRIBED = "ACME-PLUMBING: you're subscribed to our texts again. Reply STOP to opt out."
CLARIFY = (
    "Automated assistant for ACME-PLUMBING. "
    "Sorry, what do you need help with? For example: a leak, a water heater, a drain."
)
JOB = "my water heater is leaking"


@pytest.fixture
async def shop() -> Shop:
    return await open_shop(billing_terms=BillingTerms(enforced=True))


async def subscribe(
    shop: Shop,
    status: SubscriptionStatus,
    period_end: datetime = datetime(2025, 2, 6, 15, 0, tzinfo=UTC),
    status_since: datetime | None = None,
) -> None:
    """Stripe's word on the shop's plan, as the mirror holds it."""
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        await uow.subscriptions.save(
            Subscription(
                tenant_id=shop.tenant.id,
                customer_id="cus_ACMEplumbing01",
                subscription_id="sub_1QACMEplumbing01",
                status=status,
                price_id="price_1QACMEmonthly",
                current_period_end=period_end,
                cancel_at_period_end=False,
                updated_at=shop.store.now,
                status_since=status_since,
            )
        )
        await uow.commit()


def queued(shop: Shop) -> list[MessageQueued]:
    return shop.events(MessageQueued)


# --- missed calls ----------------------------------------------------------------------------


async def test_a_missed_call_without_a_plan_is_recorded_and_not_texted_back(shop: Shop) -> None:
    result = await shop.call(CALLER)

    assert result.outcome is ReportOutcome.BILLING_INACTIVE
    assert (result.reason, result.message_id) == ("billing_inactive", None)
    conversation = shop.conversation(CALLER)
    assert (conversation.status, conversation.opened_by) == ("open", OpenedBy.CALL)
    assert (conversation.id, conversation.text_back_id) == (result.conversation_id, None)
    [call] = shop.store.calls.values()
    assert (call.outcome, call.reason, call.conversation_id) == (
        "missed",
        "billing_inactive",
        conversation.id,
    )
    assert shop.outbound() == []
    assert queued(shop) == []
    await shop.run_worker()
    assert shop.sender.sent == []


async def test_every_missed_call_while_the_plan_is_out_is_held_back(shop: Shop) -> None:
    await shop.call(CALLER)

    again = await shop.call(CALLER, "busy")

    assert again.outcome is ReportOutcome.BILLING_INACTIVE
    assert [c.reason for c in shop.store.calls.values()] == ["billing_inactive"] * 2
    assert shop.outbound() == []


async def test_an_opted_out_caller_is_not_a_billing_matter(shop: Shop) -> None:
    await shop.text(CALLER, "STOP")

    result = await shop.call(CALLER)

    assert result.outcome is ReportOutcome.CALLER_OPTED_OUT
    assert [c.reason for c in shop.store.calls.values()] == ["no_answer"]


async def test_an_answered_call_is_just_recorded(shop: Shop) -> None:
    result = await shop.call(CALLER, "completed")

    assert result.outcome is ReportOutcome.ANSWERED
    assert [(c.outcome, c.reason) for c in shop.store.calls.values()] == [("answered", None)]


# --- inbound texts ---------------------------------------------------------------------------


async def test_a_text_without_a_plan_is_stored_as_suppressed_and_not_answered(
    shop: Shop,
) -> None:
    await shop.call(CALLER)

    result = await shop.text(CALLER, JOB)

    assert result.outcome is InboundOutcome.BILLING_INACTIVE
    [text] = shop.inbound(CALLER)
    assert (text.id, text.body, text.suppressed_reason) == (
        result.message_id,
        JOB,
        "billing_inactive",
    )
    assert text.conversation_id == shop.conversation(CALLER).id
    assert shop.outbound() == []
    # The assistant did not even look: it would have held three times while offering them.
    assert shop.bookings() == []
    assert shop.conversation(CALLER).memory.disclosed is False


async def test_a_text_opens_a_conversation_people_can_read_without_a_plan(shop: Shop) -> None:
    result = await shop.text(OTHER, "hi, do you do water heaters?")

    assert result.outcome is InboundOutcome.BILLING_INACTIVE
    conversation = shop.conversation(OTHER)
    assert (conversation.status, conversation.opened_by) == ("open", OpenedBy.TEXT)
    assert [m.suppressed_reason for m in shop.inbound(OTHER)] == ["billing_inactive"]


async def test_stop_start_and_help_are_still_answered(shop: Shop) -> None:
    await shop.call(CALLER)

    assert (await shop.text(CALLER, "STOP")).outcome is InboundOutcome.OPTED_OUT
    assert (await shop.text(CALLER, "START")).outcome is InboundOutcome.OPTED_IN
    assert (await shop.text(CALLER, "HELP")).outcome is InboundOutcome.HELP

    help_line = f"ACME-PLUMBING: {shop.tenant.forward_to}. Reply STOP to opt out."
    assert [(m.author, m.body) for m in shop.outbound(CALLER)] == [
        (Author.COMPLIANCE, UNSUBSCRIBED),
        (Author.COMPLIANCE, RESUBSCRIBED),
        (Author.COMPLIANCE, help_line),
    ]
    assert [m.suppressed_reason for m in shop.inbound(CALLER)] == [None, None, None]
    await shop.run_worker()
    assert shop.sent_to(CALLER) == [UNSUBSCRIBED, RESUBSCRIBED, help_line]


async def test_a_text_to_a_person_is_for_the_person_not_suppressed(shop: Shop) -> None:
    await shop.call(CALLER)
    await take_over_conversation(shop.new_uow(), shop.owner, shop.conversation(CALLER).id)

    result = await shop.text(CALLER, JOB)

    assert result.outcome is InboundOutcome.FOR_PERSON
    assert [m.suppressed_reason for m in shop.inbound(CALLER)] == [None]


async def test_a_person_can_answer_without_a_plan(shop: Shop) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, JOB)
    conversation = shop.conversation(CALLER)
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)

    sent = await send_person_text(
        shop.new_uow(), shop.owner, conversation.id, "Hi, Dana here. I can come at 2pm today."
    )

    assert sent.author is Author.PERSON
    await shop.run_worker()
    assert shop.sent_to(CALLER) == ["Hi, Dana here. I can come at 2pm today."]


# --- the plan comes back ---------------------------------------------------------------------


async def test_once_the_plan_is_active_new_calls_are_texted_back_and_nothing_held_goes_late(
    shop: Shop,
) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, JOB)
    await shop.text(OTHER, "anyone there?")
    await shop.run_worker()
    assert shop.sender.sent == []

    await subscribe(shop, SubscriptionStatus.ACTIVE)
    await shop.run_worker()
    assert shop.sender.sent == []  # the plan coming back sends nothing by itself

    again = await shop.call(CALLER)
    stranger = await shop.call("+14155550199")

    assert again.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert again.conversation_id == shop.conversation(CALLER).id  # the same conversation
    assert shop.conversation(CALLER).text_back_id == again.message_id
    assert stranger.outcome is ReportOutcome.TEXT_BACK_QUEUED
    await shop.run_worker()
    assert [(kept.sms.to, kept.sms.body) for kept in shop.sender.sent] == [
        (CALLER, TEXT_BACK),
        ("+14155550199", TEXT_BACK),
    ]
    assert [m.author for m in shop.outbound()] == [Author.TEXT_BACK, Author.TEXT_BACK]
    # A conversation the contact opened by texting is owed no text-back (as always).
    assert (await shop.call(OTHER)).outcome is ReportOutcome.CONVERSATION_OPEN
    # And the text-back went once: the next call is just a call.
    assert (await shop.call(CALLER)).outcome is ReportOutcome.CONVERSATION_OPEN


async def test_once_the_plan_is_active_the_assistant_answers_the_next_text_only(
    shop: Shop,
) -> None:
    await shop.call(CALLER)
    await shop.text(CALLER, JOB)
    await subscribe(shop, SubscriptionStatus.TRIALING)

    result = await shop.text(CALLER, "hello?")

    assert result.outcome is InboundOutcome.ANSWERED
    assert shop.bodies(CALLER) == [CLARIFY]  # an answer to "hello?", not to the held-back job
    assert [m.suppressed_reason for m in shop.inbound(CALLER)] == ["billing_inactive", None]


async def test_a_plan_that_lapses_stops_the_text_backs(shop: Shop) -> None:
    await subscribe(shop, SubscriptionStatus.ACTIVE)
    assert (await shop.call(CALLER)).outcome is ReportOutcome.TEXT_BACK_QUEUED

    await subscribe(shop, SubscriptionStatus.CANCELED)

    assert (await shop.call(OTHER)).outcome is ReportOutcome.BILLING_INACTIVE
    assert (await shop.text(CALLER, JOB)).outcome is InboundOutcome.BILLING_INACTIVE
    assert [m.author for m in shop.outbound()] == [Author.TEXT_BACK]


async def test_past_due_texts_back_during_the_grace_only(shop: Shop) -> None:
    # The renewal's payment failed at 15:00 UTC today (Stripe had moved the period on to Feb 6):
    # seven days of grace from the failure, to the second.
    await subscribe(shop, SubscriptionStatus.PAST_DUE, status_since=shop.store.now)

    assert (await shop.call(CALLER)).outcome is ReportOutcome.TEXT_BACK_QUEUED
    shop.store.advance(timedelta(days=7).total_seconds() - 1)
    assert (await shop.call(OTHER)).outcome is ReportOutcome.TEXT_BACK_QUEUED
    shop.store.advance(1)
    assert (await shop.call("+14155550199")).outcome is ReportOutcome.BILLING_INACTIVE


async def test_a_conversation_held_back_closes_in_silence_and_sends_nothing(shop: Shop) -> None:
    await shop.call(CALLER)
    shop.store.advance(24 * 3600)

    outcomes = await shop.run_worker()

    assert outcomes["idle closed"] == 1
    assert shop.conversations(CALLER)[0].status is ConversationStatus.CLOSED
    assert shop.sender.sent == []


# --- the door itself -------------------------------------------------------------------------


@pytest.mark.parametrize("author", [Author.TEXT_BACK, Author.ASSISTANT])
async def test_the_door_asks_for_automated_texts_when_the_caller_did_not(
    shop: Shop, author: Author
) -> None:
    await shop.call(CALLER)
    conversation = shop.conversation(CALLER)

    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        held = await queue_text(
            uow, conversation, sender=shop.number, body="Still there?", author=author,
            now=shop.store.now,
        )  # fmt: skip
    await subscribe(shop, SubscriptionStatus.ACTIVE)
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        sent = await queue_text(
            uow, conversation, sender=shop.number, body="Still there?", author=author,
            now=shop.store.now,
        )  # fmt: skip
        await uow.commit()

    assert held is None
    assert sent is not None
    assert [(m.author, m.body) for m in shop.outbound(CALLER)] == [(author, "Still there?")]


async def test_the_door_never_holds_back_compliance_or_people(shop: Shop) -> None:
    await shop.call(CALLER)
    conversation = shop.conversation(CALLER)

    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        for author in (Author.COMPLIANCE, Author.PERSON):
            await queue_text(
                uow, conversation, sender=shop.number, body=f"from {author}", author=author,
                now=shop.store.now,
            )  # fmt: skip
        await uow.commit()

    assert shop.bodies(CALLER) == ["from compliance", "from person"]
