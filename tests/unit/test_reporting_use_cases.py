"""Reporting's use cases on the in-memory shop: who may read reports and what a bad range or
metric says, the summary merged from days (funnel sums; latencies from merged buckets, never
averaged percentiles), the worker's recent days in each tenant's own zone, hand-off rows and
`accepted_at`, episodes end to end through the real conversation use cases, a late booking
changing its own day only, and the hourly job surviving a failed round.

The store's clock starts on Monday Jan 6 2025, 9:00 Chicago (15:00Z) and moves only when told.
Expected numbers below are worked out by hand (see the comments), not by the code under test.
"""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from nmc_adapters.logs import configure_logging
from nmc_adapters.memory import FakeSmsSender, InMemoryStore, InMemoryUnitOfWork
from nmc_adapters.phone import LibPhoneNumbers
from nmc_domain.catalog.use_cases import update_item
from nmc_domain.compliance.gate import approve_compliance
from nmc_domain.conversation.handoffs import HANDOFF_BY_PERSON
from nmc_domain.conversation.inbound import InboundOutcome
from nmc_domain.conversation.model import ConversationStatus
from nmc_domain.conversation.people import (
    close_conversation,
    release_conversation,
    send_person_text,
    take_over_conversation,
)
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user
from nmc_domain.messaging.dispatch import _record  # the second acceptance of one message
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.ports import SmsReceipt
from nmc_domain.reporting.model import METRICS, DailyRow
from nmc_domain.reporting.use_cases import (
    daily_report,
    recompute_day,
    recompute_recent,
    summary_report,
)
from nmc_domain.scheduling.booking import BookingStatus
from nmc_domain.scheduling.events import AppointmentCanceled
from nmc_domain.scheduling.reservations import cancel_appointment
from nmc_domain.shared.errors import InvalidInput, PermissionDenied
from nmc_domain.telephony.missed_call import ReportOutcome
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant
from nmc_worker.handlers import build_handlers
from nmc_worker.reports import Reports
from tests.support.conversations import Shop, open_shop
from tests.support.tenants import fresh_number
from tests.support.waiting import eventually

MONDAY = date(2025, 1, 6)
TUESDAY = date(2025, 1, 7)
SUNDAY = date(2025, 1, 5)
T0 = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)  # the store's start: Monday 9:00 Chicago
DAY = 86_400
NO_BUCKETS = (0,) * 13
TECH_EMAIL = "dana@acme-plumbing.example"
JOB = "my water heater is leaking"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def buckets(**counts: int) -> tuple[int, ...]:
    """Bucket counts by upper bound name: b5 is (2, 5], b600 is (300, 600], …"""
    bounds = ("1", "2", "5", "10", "15", "30", "60", "120", "300", "600", "1800", "3600", "inf")
    return tuple(counts.get(f"b{bound}", 0) for bound in bounds)


def move_to(shop: Shop, seconds: float) -> None:
    """Set the store's clock to T0 + seconds (forward only)."""
    shop.store.advance((at(seconds) - shop.store.now).total_seconds())


async def text_back_after(shop: Shop, caller: str, seconds: float) -> None:
    """A missed call now, and the fake provider taking its text-back `seconds` later."""
    assert (await shop.call(caller)).outcome is ReportOutcome.TEXT_BACK_QUEUED
    shop.store.advance(seconds)
    outcomes = await shop.run_worker(idle=False)
    assert outcomes["message sent"] == 1


def by_metric(rows: Any) -> dict[str, DailyRow]:
    return {row.metric: row for row in rows}


def counts(rows: Any) -> dict[str, tuple[int, int | None]]:
    return {row.metric: (row.count, row.total) for row in rows}


def zero_funnel(**changes: tuple[int, int | None]) -> dict[str, tuple[int, int | None]]:
    funnel: dict[str, tuple[int, int | None]] = {
        "missed_calls": (0, None),
        "text_backs_sent": (0, None),
        "conversations_replied": (0, None),
        "quotes": (0, None),
        "offers": (0, None),
        "bookings": (0, None),
        "recovered_revenue_cents": (0, 0),
        "opt_outs": (0, None),
    }
    return funnel | changes


# --- reads: who may, and what a bad request says -----------------------------------------------


@pytest.fixture
async def shop() -> Shop:
    return await open_shop()


async def two_days(shop: Shop) -> None:
    """Monday: text-backs taken after 3, 4 and 12 s, one contact texts STOP. Tuesday: after
    40 and 200 s, and one contact texts "hi" (the assistant answers). Both days recomputed."""
    for caller, seconds in (("+15550001001", 3), ("+15550001002", 4), ("+15550001003", 12)):
        await text_back_after(shop, caller, seconds)
    assert (await shop.text("+15550001002", "STOP")).outcome is InboundOutcome.OPTED_OUT
    await shop.run_worker(idle=False)  # the confirmation goes out now, not with Tuesday's
    move_to(shop, DAY)  # Tuesday 9:00 Chicago
    for caller, seconds in (("+15550001004", 40), ("+15550001005", 200)):
        await text_back_after(shop, caller, seconds)
    assert (await shop.text("+15550001004", "hi")).outcome is InboundOutcome.ANSWERED
    await recompute_day(shop.new_uow(), shop.tenant.id, MONDAY)
    await recompute_day(shop.new_uow(), shop.tenant.id, TUESDAY)


async def test_an_owner_reads_the_days_rows_one_metric_or_all(shop: Shop) -> None:
    await two_days(shop)

    missed = await daily_report(shop.new_uow(), shop.owner, SUNDAY, TUESDAY, "missed_calls")
    every = await daily_report(shop.new_uow(), shop.owner, MONDAY, MONDAY, None)

    assert [(row.day, row.metric, row.count) for row in missed] == [
        (MONDAY, "missed_calls", 3),
        (TUESDAY, "missed_calls", 2),
    ]  # Sunday was never computed: no row, not a zero
    assert sorted(row.metric for row in every) == sorted(METRICS)
    monday = by_metric(every)["text_back_seconds"]
    # percentile_cont over [3, 4, 12]: p50 = 4; p95 at position 1.9 = 4 + 0.9 * 8 = 11.2
    assert (monday.count, monday.p50) == (3, 4.0)
    assert monday.p95 == pytest.approx(11.2, abs=1e-9)
    assert monday.buckets == buckets(b5=2, b15=1)


async def test_a_tech_may_read_neither_report(shop: Shop) -> None:
    await add_user(shop.new_uow(), shop.owner, email=TECH_EMAIL, role="TECH")
    tech = Principal(TECH_EMAIL, shop.tenant.id)

    with pytest.raises(PermissionDenied):
        await daily_report(shop.new_uow(), tech, MONDAY, TUESDAY, None)
    with pytest.raises(PermissionDenied):
        await summary_report(shop.new_uow(), tech, MONDAY, TUESDAY)
    # The owner, same request: allowed.
    assert (await summary_report(shop.new_uow(), shop.owner, MONDAY, TUESDAY)).missed_calls == 0


@pytest.mark.parametrize(
    ("first", "last", "field"),
    [
        (TUESDAY, MONDAY, "to"),  # to before from
        (date(2024, 1, 1), date(2025, 1, 1), "to"),  # 367 days
    ],
)
async def test_a_bad_range_names_the_to_field(
    shop: Shop, first: date, last: date, field: str
) -> None:
    with pytest.raises(InvalidInput) as daily:
        await daily_report(shop.new_uow(), shop.owner, first, last, None)
    with pytest.raises(InvalidInput) as summary:
        await summary_report(shop.new_uow(), shop.owner, first, last)
    assert (daily.value.field, summary.value.field) == (field, field)


async def test_a_leap_years_366_days_are_one_report_and_a_day_is_too(shop: Shop) -> None:
    leap = await daily_report(shop.new_uow(), shop.owner, date(2024, 1, 1), date(2024, 12, 31),
                              None)  # fmt: skip
    one = await summary_report(shop.new_uow(), shop.owner, MONDAY, MONDAY)
    assert list(leap) == []
    assert (one.first, one.last, one.missed_calls) == (MONDAY, MONDAY, 0)


async def test_an_unknown_metric_is_invalid_input_naming_metric(shop: Shop) -> None:
    with pytest.raises(InvalidInput) as raised:
        await daily_report(shop.new_uow(), shop.owner, MONDAY, TUESDAY, "text_back_p95")
    assert raised.value.field == "metric"


async def test_the_summary_adds_the_days_and_merges_latency_buckets(shop: Shop) -> None:
    await two_days(shop)

    summary = await summary_report(shop.new_uow(), shop.owner, SUNDAY, date(2025, 1, 8))

    assert (summary.first, summary.last) == (SUNDAY, date(2025, 1, 8))
    assert (
        summary.missed_calls, summary.text_backs_sent, summary.conversations_replied,
        summary.quotes, summary.offers, summary.bookings, summary.recovered_revenue_cents,
        summary.opt_outs,
    ) == (3 + 2, 3 + 2, 1 + 1, 0, 0, 0, 0, 1 + 0)  # fmt: skip
    # Five text-backs [3, 4, 12 | 40, 200]. Merged buckets: rank ceil(0.5*5)=3 is 12, in
    # (10, 15] -> 15; rank ceil(0.95*5)=5 is 200, in (120, 300] -> 300. Averaging the days'
    # exact percentiles would give p50 (4 + 120)/2 = 62 and p95 (11.2 + 192)/2 = 101.6.
    assert (summary.text_back.count, summary.text_back.p50, summary.text_back.p95) == (5, 15, 300)
    assert summary.text_back.p95 != pytest.approx((11.2 + 192.0) / 2)
    # Tuesday's "hi" answered by the assistant at once: one day, its exact values kept.
    assistant = summary.assistant_response
    assert (assistant.count, assistant.p50, assistant.p95) == (1, 0.0, 0.0)
    first = summary.first_response
    assert (first.count, first.p50, first.p95) == (0, None, None)

    # The summary's funnel is the sum of the days the daily report returns.
    days = await daily_report(shop.new_uow(), shop.owner, SUNDAY, date(2025, 1, 8), None)
    per_day = {(row.day, row.metric): row.count for row in days}
    assert per_day[MONDAY, "missed_calls"] + per_day[TUESDAY, "missed_calls"] == 5
    assert per_day[MONDAY, "opt_outs"] + per_day[TUESDAY, "opt_outs"] == 1
    tuesday = by_metric(row for row in days if row.day == TUESDAY)["text_back_seconds"]
    # Tuesday alone: percentile_cont over [40, 200]: p50 120, p95 40 + 0.95 * 160 = 192.
    assert (tuesday.p50, tuesday.p95) == (120.0, pytest.approx(192.0))


# --- the worker's recent days, in each tenant's zone ------------------------------------------


async def tokyo_shop(store: InMemoryStore) -> Shop:
    command = OnboardTenant(
        name="SUMIDA-PLUMBING",
        number=fresh_number(),
        forward_to=fresh_number(),
        timezone="Asia/Tokyo",
        owner_email="owner@sumida-plumbing.example",
    )
    onboarded = await onboard_tenant(InMemoryUnitOfWork(store), LibPhoneNumbers(), command)
    tenant, _ = await approve_compliance(InMemoryUnitOfWork(store), onboarded.tenant.id)
    return Shop(store, tenant, onboarded.number)


async def test_recent_days_are_today_and_the_three_before_in_each_tenants_zone() -> None:
    chicago = await open_shop()
    tokyo = await tokyo_shop(chicago.store)
    # 15:00Z Monday: 9:00 Monday in Chicago, midnight starting Tuesday in Tokyo.
    await text_back_after(chicago, "+15550002001", 2)
    await text_back_after(tokyo, "+15550002002", 5)
    assert chicago.store.now == at(7)
    # Now: Wednesday 03:00Z = Tuesday 21:00 in Chicago, Wednesday 12:00 in Tokyo.
    now = datetime(2025, 1, 8, 3, 0, tzinfo=UTC)

    written = await recompute_recent(chicago.new_uow, now)

    days = chicago.store.report_daily
    expected = {(chicago.tenant.id, date(2025, 1, d)) for d in (4, 5, 6, 7)} | {
        (tokyo.tenant.id, date(2025, 1, d)) for d in (5, 6, 7, 8)
    }
    assert {(tenant, day) for tenant, day, _ in days} == expected
    assert written == 8 * len(METRICS) == len(days)
    for tenant, day in expected:
        assert {metric for t, d, metric in days if (t, d) == (tenant, day)} == set(METRICS)
    missed = {(t, d): row.count for (t, d, m), row in days.items() if m == "missed_calls"}
    assert {key for key, count in missed.items() if count} == {
        (chicago.tenant.id, MONDAY),  # 15:00:00Z is Monday 9:00 in Chicago
        (tokyo.tenant.id, TUESDAY),  # 15:00:02Z is Tuesday 00:00:02 in Tokyo
    }
    latency = days[tokyo.tenant.id, TUESDAY, "text_back_seconds"]
    assert (latency.count, latency.p50, latency.buckets) == (1, 5.0, buckets(b5=1))

    snapshot = dict(days)
    episodes = dict(chicago.store.report_episodes)
    again = await recompute_recent(chicago.new_uow, now)

    assert again == written
    assert dict(chicago.store.report_daily) == snapshot
    assert dict(chicago.store.report_episodes) == episodes
    assert len(episodes) == 2


# --- hand-off rows and accepted_at ------------------------------------------------------------


def handoffs(shop: Shop, conversation_id: uuid.UUID) -> list[tuple[datetime, str, Any]]:
    rows = [h for h in shop.store.conversation_handoffs.values()
            if h.conversation_id == conversation_id]  # fmt: skip
    assert {h.tenant_id for h in rows} <= {shop.tenant.id}
    return sorted((h.at, h.reason, h.released_at) for h in rows)


async def test_a_persons_take_over_opens_a_handoff_and_a_release_closes_it(shop: Shop) -> None:
    caller = "+15550003001"
    await shop.call(caller)
    conversation = shop.conversation(caller)
    assert handoffs(shop, conversation.id) == []

    move_to(shop, 60)
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)
    move_to(shop, 90)
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)  # no-op
    assert handoffs(shop, conversation.id) == [(at(60), HANDOFF_BY_PERSON, None)]

    move_to(shop, 300)
    await release_conversation(shop.new_uow(), shop.owner, conversation.id)
    move_to(shop, 360)
    await release_conversation(shop.new_uow(), shop.owner, conversation.id)  # no-op
    assert handoffs(shop, conversation.id) == [(at(60), HANDOFF_BY_PERSON, at(300))]

    move_to(shop, 400)
    await take_over_conversation(shop.new_uow(), shop.owner, conversation.id)
    move_to(shop, 500)
    await close_conversation(shop.new_uow(), shop.owner, conversation.id)
    # Closed in a person's hands: the second stretch stays open (released_at None).
    assert handoffs(shop, conversation.id) == [
        (at(60), HANDOFF_BY_PERSON, at(300)),
        (at(400), HANDOFF_BY_PERSON, None),
    ]


async def test_the_assistant_hands_off_when_asked_for_a_person(shop: Shop) -> None:
    caller = "+15550003002"
    await shop.call(caller)
    move_to(shop, 30)
    asked = await shop.text(caller, "can I talk to a person")

    assert asked.outcome is InboundOutcome.ANSWERED
    conversation = shop.conversation(caller)
    assert conversation.status is ConversationStatus.HUMAN
    assert handoffs(shop, conversation.id) == [(at(30), "asked for a person", None)]

    move_to(shop, 45)
    assert (await shop.text(caller, "hello?")).outcome is InboundOutcome.FOR_PERSON
    assert len(handoffs(shop, conversation.id)) == 1  # already a person's: no second row

    move_to(shop, 600)
    await release_conversation(shop.new_uow(), shop.owner, conversation.id)
    assert handoffs(shop, conversation.id) == [(at(30), "asked for a person", at(600))]


async def test_dispatch_sets_accepted_at_once(shop: Shop) -> None:
    caller = "+15550003003"
    called = await shop.call(caller)
    assert called.message_id is not None
    [queued] = shop.outbound(caller)
    assert queued.accepted_at is None

    move_to(shop, 5)
    await shop.run_worker(idle=False)
    [sent] = shop.outbound(caller)
    assert (sent.accepted_at, sent.provider_sid is not None) == (at(5), True)

    move_to(shop, 50)
    event = MessageQueued(shop.tenant.id, called.message_id)
    await _record(shop.new_uow, event, receipt=SmsReceipt(provider_sid=sent.provider_sid or "",
                                                            status="sent"))  # fmt: skip
    [again] = shop.outbound(caller)
    assert again.accepted_at == at(5)  # the first acceptance stays
    assert again.status.value == "sent"  # while the second receipt still advanced the status


# --- episodes end to end ----------------------------------------------------------------------


def stored_episodes(shop: Shop) -> set[tuple[str, str, datetime, str, float]]:
    return {
        (e.conversation_id.hex, e.start_type.value, e.started_at, e.end_type.value, e.seconds)
        for e in shop.store.report_episodes.values()
        if e.tenant_id == shop.tenant.id
    }


async def test_episodes_end_to_end_and_a_late_booking_changes_its_own_day(shop: Shop) -> None:
    a, b = "+15550004001", "+15550004002"
    # Monday. A: missed call at 0 s, text-back taken by the provider at 7 s; "hi" at 60 s,
    # answered by the assistant in the same transaction.
    await text_back_after(shop, a, 7)
    move_to(shop, 60)
    assert (await shop.text(a, "hi")).outcome is InboundOutcome.ANSWERED
    # B: texts at 100 s (assistant answers), a person takes over at 200 s, B writes at 230 s,
    # the person texts at 320 s.
    move_to(shop, 100)
    assert (await shop.text(b, "hello")).outcome is InboundOutcome.ANSWERED
    conv_a, conv_b = shop.conversation(a).id, shop.conversation(b).id
    move_to(shop, 200)
    await take_over_conversation(shop.new_uow(), shop.owner, conv_b)
    move_to(shop, 230)
    assert (await shop.text(b, "are you there?")).outcome is InboundOutcome.FOR_PERSON
    move_to(shop, 320)
    await send_person_text(shop.new_uow(), shop.owner, conv_b, "Yes! Dana here.")
    await shop.run_worker(idle=False)

    monday = await recompute_day(shop.new_uow(), shop.tenant.id, MONDAY)
    tuesday = await recompute_day(shop.new_uow(), shop.tenant.id, TUESDAY)
    sunday = await recompute_day(shop.new_uow(), shop.tenant.id, SUNDAY)

    assert stored_episodes(shop) == {
        (conv_a.hex, "missed_call", at(0), "text_back", 7.0),
        (conv_a.hex, "inbound", at(60), "assistant", 0.0),
        (conv_b.hex, "inbound", at(100), "assistant", 0.0),
        (conv_b.hex, "handoff", at(200), "person", 120.0),
        (conv_b.hex, "inbound", at(230), "person", 90.0),
    }
    rows = by_metric(monday)
    assert (rows["text_back_seconds"].count, rows["text_back_seconds"].p50,
            rows["text_back_seconds"].p95) == (1, 7.0, 7.0)  # fmt: skip
    assert rows["text_back_seconds"].buckets == buckets(b10=1)
    # A person's first responses [90, 120]: p50 105, p95 90 + 0.95 * 30 = 118.5.
    person = rows["first_response_seconds"]
    assert (person.count, person.p50, person.buckets) == (2, 105.0, buckets(b120=2))
    assert person.p95 == pytest.approx(118.5)
    assistant = rows["assistant_response_seconds"]
    assert (assistant.count, assistant.p50, assistant.p95) == (2, 0.0, 0.0)
    assert {m: c for m, c in counts(monday).items() if m in zero_funnel()} == zero_funnel(
        missed_calls=(1, None), text_backs_sent=(1, None), conversations_replied=(2, None)
    )
    assert {m: c for m, c in counts(tuesday).items() if m in zero_funnel()} == zero_funnel()

    # Tuesday 9:00: A asks for the job (three offers held) and picks the second: booked.
    move_to(shop, DAY)
    assert (await shop.text(a, JOB)).outcome is InboundOutcome.ANSWERED
    assert len(shop.bookings(BookingStatus.HELD)) == 3
    move_to(shop, DAY + 60)
    assert (await shop.text(a, "2")).outcome is InboundOutcome.ANSWERED
    [booked] = shop.bookings(BookingStatus.BOOKED)
    assert (booked.price_cents, booked.booked_at) == (18_900, at(DAY + 60))
    # The catalog's price changes afterwards: the booking keeps its snapshot.
    await update_item(shop.new_uow(), shop.owner, shop.items[0].id, {"price_cents": 25_000})

    assert list(await recompute_day(shop.new_uow(), shop.tenant.id, MONDAY)) == list(monday)
    assert list(await recompute_day(shop.new_uow(), shop.tenant.id, SUNDAY)) == list(sunday)
    after = await recompute_day(shop.new_uow(), shop.tenant.id, TUESDAY)
    assert {m: c for m, c in counts(after).items() if m in zero_funnel()} == zero_funnel(
        quotes=(1, None),
        offers=(3, None),
        bookings=(1, None),
        recovered_revenue_cents=(1, 18_900),  # called Monday, booked Tuesday: within 7 days
        # A's first text was Monday: Tuesday has no newly replying conversation.
    )
    assert by_metric(after)["assistant_response_seconds"].count == 2

    # Canceled: out of the bookings and the revenue on the next recompute.
    await cancel_appointment(shop.new_uow(), shop.owner, booked.id)
    canceled = await recompute_day(shop.new_uow(), shop.tenant.id, TUESDAY)
    assert counts(canceled)["bookings"] == (0, None)
    assert counts(canceled)["recovered_revenue_cents"] == (0, 0)
    assert counts(canceled)["offers"] == (3, None)  # it was still offered that day
    assert list(await recompute_day(shop.new_uow(), shop.tenant.id, MONDAY)) == list(monday)
    summary = await summary_report(shop.new_uow(), shop.owner, SUNDAY, TUESDAY)
    assert (summary.bookings, summary.recovered_revenue_cents) == (0, 0)


async def test_a_booking_of_a_conversation_a_text_opened_earns_no_revenue(shop: Shop) -> None:
    caller = "+15550004003"
    assert (await shop.text(caller, JOB)).outcome is InboundOutcome.ANSWERED
    move_to(shop, 60)
    assert (await shop.text(caller, "1")).outcome is InboundOutcome.ANSWERED
    assert len(shop.bookings(BookingStatus.BOOKED)) == 1

    rows = counts(await recompute_day(shop.new_uow(), shop.tenant.id, MONDAY))

    assert rows["bookings"] == (1, None)
    assert rows["recovered_revenue_cents"] == (0, 0)


# --- the hourly job survives a failed round ---------------------------------------------------


async def test_a_failed_round_is_logged_and_the_next_round_recomputes() -> None:
    shop = await open_shop()
    await text_back_after(shop, "+15550005001", 3)
    calls = {"n": 0}

    def flaky_uow() -> InMemoryUnitOfWork:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionRefusedError("the database is unreachable")
        return shop.new_uow()

    lines = io.StringIO()
    configure_logging("json", "info", stream=lines)
    stop = asyncio.Event()
    job = Reports(flaky_uow, every_seconds=0.01, clock=lambda: at(3600))
    task = asyncio.create_task(job.run(stop))
    try:
        # Done early (crashed) or recomputed: either ends the wait, the assert tells which.
        await eventually(lambda: task.done() or "reports.recomputed" in lines.getvalue())
        assert not task.done()  # the failure did not end the job
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        configure_logging("json", "info")

    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    events = [line["event"] for line in logged if line["event"].startswith("reports.")]
    assert events[0] == "reports.failed"
    assert "reports.recomputed" in events[1:]
    [failed] = [line for line in logged if line["event"] == "reports.failed"]
    assert failed["error"] == "ConnectionRefusedError: the database is unreachable"
    assert failed["level"] == "error"
    recomputed = next(line for line in logged if line["event"] == "reports.recomputed")
    assert recomputed["rows"] == 4 * len(METRICS)  # one tenant, four days
    row = shop.store.report_daily[shop.tenant.id, MONDAY, "text_back_seconds"]
    assert (row.count, row.p50) == (1, 3.0)


# --- late events older than the worker's window -----------------------------------------------


async def test_a_cancellation_days_later_leaves_the_total_through_its_event() -> None:
    shop = await open_shop()
    caller = "+15550006001"
    await text_back_after(shop, caller, 2)
    assert (await shop.text(caller, JOB)).outcome is InboundOutcome.ANSWERED
    assert (await shop.text(caller, "3")).outcome is InboundOutcome.ANSWERED
    [booked] = shop.bookings(BookingStatus.BOOKED)  # Monday 2 PM, booked Monday 9:00
    await recompute_recent(shop.new_uow, at(3 * 3600))  # the job's Monday noon round
    monday = shop.store.report_daily[shop.tenant.id, MONDAY, "recovered_revenue_cents"]
    assert (monday.count, monday.total) == (1, 18_900)

    move_to(shop, 4 * DAY)  # Friday: the customer cancels
    await cancel_appointment(shop.new_uow(), shop.owner, booked.id)
    await recompute_recent(shop.new_uow, at(4 * DAY + 3600))  # the job's next round
    # Monday is out of the job's window: the worker's handler of the cancellation reaches it.
    [canceled] = [
        row.event for row in shop.store.outbox_rows if isinstance(row.event, AppointmentCanceled)
    ]
    handlers = build_handlers(shop.new_uow, FakeSmsSender())
    await handlers[AppointmentCanceled](canceled)

    summary = await summary_report(shop.new_uow(), shop.owner, MONDAY, date(2025, 1, 10))
    assert (summary.bookings, summary.recovered_revenue_cents) == (0, 0)


async def test_a_persons_reply_days_later_reaches_the_day_the_contact_wrote(shop: Shop) -> None:
    caller = "+15550007001"
    await text_back_after(shop, caller, 2)
    assert (await shop.text(caller, "can I talk to a person")).outcome is InboundOutcome.ANSWERED
    conversation = shop.conversation(caller)
    await recompute_recent(shop.new_uow, at(3600))  # Monday's round: no reply yet
    monday = shop.store.report_daily[shop.tenant.id, MONDAY, "first_response_seconds"]
    assert monday.count == 0

    move_to(shop, 4 * DAY)  # Friday 9:00 Chicago: out of the job's window for Monday
    await send_person_text(shop.new_uow(), shop.owner, conversation.id, "Dana here, sorry!")
    await recompute_recent(shop.new_uow, at(4 * DAY + 60))

    monday = shop.store.report_daily[shop.tenant.id, MONDAY, "first_response_seconds"]
    assert (monday.count, monday.p50) == (1, 4 * DAY - 2)
