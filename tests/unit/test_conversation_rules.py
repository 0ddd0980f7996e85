"""The conversation's smaller rules: the state table, the settings' checks, paging, and the
edges of picks and opt-ins the flows do not reach."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from nmc_domain.compliance.contacts import LedgerAction, OptOutSource
from nmc_domain.conversation.events import ConversationIdleCheck
from nmc_domain.conversation.inbound import InboundOutcome
from nmc_domain.conversation.lifecycle import IdleOutcome, check_idle
from nmc_domain.conversation.memory import Offer
from nmc_domain.conversation.model import (
    Conversation,
    ConversationStatus,
    OpenedBy,
    new_conversation,
)
from nmc_domain.conversation.people import list_conversations
from nmc_domain.conversation.picks import pick_offer
from nmc_domain.conversation.settings import (
    DEFAULT_DISCLOSURE,
    ConversationSettings,
    change_conversation_settings,
)
from nmc_domain.conversation.tenant_settings import (
    change_tenant_settings,
    list_opt_outs,
    tenant_settings,
)
from nmc_domain.messaging.errors import SmsRejected
from nmc_domain.shared.errors import Conflict, InvalidInput
from nmc_domain.tenancy.template import DEFAULT_AFTER_HOURS
from tests.support.conversations import Shop, open_shop

NOW = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")
OPEN, HUMAN, BLOCKED, CLOSED = "open", "human", "blocked", "closed"


def conversation_in(status: str) -> Conversation:
    opened = new_conversation(
        tenant_id=uuid.uuid4(),
        caller="+14155550123",
        business_number="+14158675309",
        now=NOW,
        opened_by=OpenedBy.CALL,
    )
    return attrs.evolve(opened, status=ConversationStatus(status))


# Move -> (from state -> to state, or Conflict), written out from DESIGN.md section 8.
TABLE = {
    "take_over": {OPEN: HUMAN, HUMAN: HUMAN, BLOCKED: Conflict, CLOSED: Conflict},
    "release": {OPEN: OPEN, HUMAN: OPEN, BLOCKED: Conflict, CLOSED: Conflict},
    "close": {OPEN: CLOSED, HUMAN: CLOSED, BLOCKED: Conflict, CLOSED: CLOSED},
    "block": {OPEN: BLOCKED, HUMAN: BLOCKED, BLOCKED: BLOCKED, CLOSED: Conflict},
    "unblock": {OPEN: Conflict, HUMAN: Conflict, BLOCKED: OPEN, CLOSED: Conflict},
}


@pytest.mark.parametrize(
    ("move", "start", "end"),
    [(move, start, end) for move, row in TABLE.items() for start, end in row.items()],
)
def test_the_state_table(move: str, start: str, end: object) -> None:
    conversation = conversation_in(start)
    later = NOW + timedelta(minutes=5)

    if end is Conflict:
        with pytest.raises(Conflict):
            getattr(conversation, move)(later)
        return
    moved = getattr(conversation, move)(later)
    assert moved.status == end
    assert moved.assistant_answers is (end == OPEN)
    if end == CLOSED and start != CLOSED:
        assert moved.closed_at == later
    if end == start and move != "block":
        assert moved == conversation  # a repeated move changes nothing


def test_idle_counts_from_the_last_activity_and_never_for_blocked_or_closed() -> None:
    opened = conversation_in(OPEN)
    assert not opened.idle(NOW + timedelta(hours=23, minutes=59), 24)
    assert opened.idle(NOW + timedelta(hours=24), 24)
    touched = opened.touched(NOW + timedelta(hours=10))
    assert not touched.idle(NOW + timedelta(hours=24), 24)
    assert touched.idle(NOW + timedelta(hours=34), 24)
    for status in (BLOCKED, CLOSED):
        assert not conversation_in(status).idle(NOW + timedelta(days=30), 24)


# --- settings ------------------------------------------------------------------------------

TENANT = uuid.uuid4()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("conversation_idle_hours", 0),
        ("conversation_idle_hours", 721),
        ("conversation_idle_hours", True),
        ("conversation_idle_hours", "24"),
        ("conversation_idle_hours", 2.5),
        ("help_contact", ""),
        ("help_contact", "   "),
        ("help_contact", 415),
        ("help_contact", "x" * 101),
        ("help_contact", "Call {phone}"),  # no variables in the HELP line
        ("assistant_disclosure", "Bot of {business}"),
        ("assistant_disclosure", "Bot of {}"),
        ("assistant_disclosure", "Bot of {business_name"),  # malformed braces
        ("colour", "blue"),
    ],
)
def test_conversation_settings_refuse_bad_values_naming_the_field(
    field: str, value: object
) -> None:
    with pytest.raises(InvalidInput) as raised:
        change_conversation_settings(ConversationSettings(TENANT), **{field: value})

    assert raised.value.field == field


def test_conversation_settings_accept_and_reset() -> None:
    changed = change_conversation_settings(
        ConversationSettings(TENANT),
        conversation_idle_hours=720,
        help_contact="  Call 415-867-5309  ",
        assistant_disclosure="{business_name} bot",
    )

    assert (changed.conversation_idle_hours, changed.help_contact) == (720, "Call 415-867-5309")
    assert changed.disclosure("ACME") == "ACME bot"
    reset = change_conversation_settings(changed, assistant_disclosure=None, help_contact=None)
    assert (reset.help_contact, reset.assistant_disclosure) == (None, None)
    assert reset.disclosure("ACME") == "Automated assistant for ACME"
    assert DEFAULT_DISCLOSURE == "Automated assistant for {business_name}"
    assert (
        change_conversation_settings(reset, conversation_idle_hours=1).conversation_idle_hours == 1
    )


@pytest.fixture
async def shop() -> Shop:
    return await open_shop()


async def test_the_settings_page_refuses_unknown_fields_and_non_text_templates(
    shop: Shop,
) -> None:
    with pytest.raises(InvalidInput) as unknown:
        await shop.settings(colour="blue")
    with pytest.raises(InvalidInput) as template:
        await shop.settings(after_hours_template=42)

    assert (unknown.value.field, template.value.field) == ("colour", "after_hours_template")


async def test_a_template_set_to_null_is_the_default_again(shop: Shop) -> None:
    await shop.settings(after_hours_template="{business_name}: open {next_open}.")
    await shop.settings(after_hours_template=None, text_back_template=None)

    page = await tenant_settings(shop.new_uow(), shop.owner)

    assert page.tenant.after_hours_template.text == DEFAULT_AFTER_HOURS


async def test_an_unchanged_settings_page_stores_nothing(shop: Shop) -> None:
    before = await tenant_settings(shop.new_uow(), shop.owner)

    after = await change_tenant_settings(
        shop.new_uow(), shop.owner, conversation_idle_hours=24, buffer_minutes=0
    )

    assert after == before
    assert shop.store.conversation_settings == {}  # the defaults, never written


# --- paging --------------------------------------------------------------------------------


async def test_the_inbox_and_the_ledger_page_newest_first(shop: Shop) -> None:
    contacts = ["+14155550101", "+14155550102", "+14155550103"]
    for contact in contacts:
        await shop.text(contact, "STOP")
        shop.store.advance(60)

    seen, after = [], None
    while True:
        page = await list_conversations(shop.new_uow(), shop.owner, None, after, 2)
        seen.extend(c.caller for c in page.items)
        if page.next_after is None:
            break
        after = page.next_after
    ledger, after = [], None
    while True:
        entries = await list_opt_outs(shop.new_uow(), shop.owner, after, 2)
        ledger.extend(e.phone for e in entries.items)
        if entries.next_after is None:
            break
        after = entries.next_after

    assert seen == ledger == list(reversed(contacts))


# --- edges of picks, opt-ins and idle checks ------------------------------------------------


def test_picks_by_clock_edges() -> None:
    noon = datetime(2025, 12, 2, 12, 0, tzinfo=CHICAGO)
    offers = (
        Offer(1, uuid.uuid4(), uuid.uuid4(), noon, noon + timedelta(hours=1)),
        Offer(2, uuid.uuid4(), uuid.uuid4(), noon + timedelta(hours=3), noon + timedelta(hours=4)),
    )

    picked = pick_offer("12pm", offers, CHICAGO)
    assert picked is not None
    assert picked.number == 1
    assert pick_offer("12am", offers, CHICAGO) is None  # midnight: no offer then
    assert pick_offer("13pm", offers, CHICAGO) is None  # not a time
    assert pick_offer("tue 25:00", offers, CHICAGO) is None
    later = pick_offer("3:00 pm", offers, CHICAGO)
    assert later is not None
    assert later.number == 2


async def test_start_after_a_carrier_opt_out_keeps_the_open_conversation(shop: Shop) -> None:
    caller = "+14155550123"
    await shop.call(caller)
    shop.sender.fail_next(SmsRejected("21610", "unsubscribed recipient"))
    await shop.run_worker()
    conversation = shop.conversation(caller)
    assert (shop.contact(caller).opted_out, conversation.status) == (True, ConversationStatus.OPEN)

    result = await shop.text(caller, "START")

    assert result.outcome is InboundOutcome.OPTED_IN
    assert [(e.action, e.source) for e in shop.ledger(caller)] == [
        (LedgerAction.OPT_OUT, OptOutSource.CARRIER),
        (LedgerAction.OPT_IN, OptOutSource.KEYWORD),
    ]
    assert shop.conversation(caller).id == conversation.id
    assert shop.conversation(caller).status is ConversationStatus.OPEN


async def test_an_idle_check_for_a_conversation_that_is_gone_does_nothing(shop: Shop) -> None:
    event = ConversationIdleCheck(shop.tenant.id, uuid.uuid4())

    assert await check_idle(shop.new_uow(), event) is IdleOutcome.DONE
