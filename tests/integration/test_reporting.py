"""Reporting end to end on real PostgreSQL: a missed call, its text-back taken by a (fake)
provider, the assistant's reply, a person's take-over and first text, through the real use
cases; the episodes and daily rows recompute_day writes, checked against the times the
database itself stored (a reference computed here, not by the code under test); a booking
after the first recompute changing its own day's bookings and revenue (the booking's price
snapshot, not the catalog's later price), and a cancellation taking it out again."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.memory import FakeSmsSender
from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.catalog.use_cases import NewItem, create_item, update_item
from nmc_domain.conversation.assistant import RuleBasedAssistant
from nmc_domain.conversation.handoffs import HANDOFF_BY_PERSON
from nmc_domain.conversation.inbound import InboundOutcome, InboundText, receive_text
from nmc_domain.conversation.people import (
    release_conversation,
    send_person_text,
    take_over_conversation,
)
from nmc_domain.identity.model import Principal
from nmc_domain.messaging.dispatch import DispatchOutcome, dispatch_message
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.reporting.use_cases import recompute_day
from nmc_domain.scheduling.reservations import cancel_appointment
from nmc_domain.scheduling.setup import add_technician, set_business_hours
from nmc_domain.telephony.missed_call import CallStatusReport, ReportOutcome, report_call_status
from tests.support.conversations import OWNER_EMAIL, WEEKDAYS
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import call_sid

CHICAGO = ZoneInfo("America/Chicago")
JOB = "my water heater is leaking"


def local(at: datetime) -> date:
    return at.astimezone(CHICAGO).date()


def p(values: list[float], q: float) -> float:
    """percentile_cont by hand (two values at most here)."""
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


async def one(engine: AsyncEngine, sql: str, **params: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql), params)).one()


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def stored_days(engine: AsyncEngine, tenant_id: uuid.UUID) -> dict[tuple[date, str], tuple]:
    found = await rows(
        engine,
        "SELECT day, metric, count, p50, p95, buckets, total FROM report_daily "
        "WHERE tenant_id = :t",
        t=tenant_id,
    )
    return {(r.day, r.metric): (r.count, r.p50, r.p95, tuple(r.buckets), r.total) for r in found}


async def test_episodes_rollups_and_a_late_booking_on_postgres(
    engine: AsyncEngine, admin_engine: AsyncEngine
) -> None:
    def new_uow() -> PgUnitOfWork:
        return PgUnitOfWork(engine)

    tenant, number = await onboard(new_uow)
    owner = Principal(OWNER_EMAIL, tenant.id)
    item = await create_item(
        new_uow(), owner, NewItem("Water heater flush", 18_900, 90, aliases=("water heater",))
    )
    await add_technician(new_uow(), owner, name="Dana Reyes")
    await set_business_hours(new_uow(), owner, list(WEEKDAYS))
    assistant = RuleBasedAssistant()
    a, b = caller_number(), caller_number()

    async def texts(caller: str, body: str) -> InboundOutcome:
        sid = "SM" + uuid.uuid4().hex
        result = await receive_text(new_uow(), assistant, InboundText(sid, caller, number, body))
        return result.outcome

    # A: a missed call; its text-back taken by the provider; "hi", answered by the assistant.
    called = await report_call_status(
        new_uow(), CallStatusReport(call_sid(), number, a, "no-answer", 0)
    )
    assert called.outcome is ReportOutcome.TEXT_BACK_QUEUED
    assert called.message_id is not None
    event = MessageQueued(tenant.id, called.message_id)
    assert await dispatch_message(new_uow, FakeSmsSender(), event) is DispatchOutcome.SENT
    assert await texts(a, "hi") is InboundOutcome.ANSWERED
    # B: texts, a person takes over, B writes again, the person answers.
    assert await texts(b, "hello") is InboundOutcome.ANSWERED
    [conv_b] = await rows(admin_engine, "SELECT id FROM conversations WHERE caller = :c", c=b)
    await take_over_conversation(new_uow(), owner, conv_b.id)
    assert await texts(b, "are you there?") is InboundOutcome.FOR_PERSON
    await send_person_text(new_uow(), owner, conv_b.id, "Yes! Dana here.")

    # What the database stored, read past the ports: the reference's inputs.
    call = await one(admin_engine, "SELECT occurred_at, conversation_id FROM calls "
                     "WHERE tenant_id = :t", t=tenant.id)  # fmt: skip
    text_back = await one(admin_engine, "SELECT accepted_at, created_at FROM messages "
                          "WHERE id = :m", m=called.message_id)  # fmt: skip
    [handoff] = await rows(
        admin_engine,
        "SELECT at, reason, released_at FROM conversation_handoffs WHERE conversation_id = :c",
        c=conv_b.id,
    )
    assert (handoff.reason, handoff.released_at) == (HANDOFF_BY_PERSON, None)
    b_texts = await rows(admin_engine, "SELECT created_at FROM messages WHERE conversation_id = :c "
                         "AND direction = 'inbound' ORDER BY created_at", c=conv_b.id)  # fmt: skip
    person = await one(admin_engine, "SELECT created_at FROM messages WHERE conversation_id = :c "
                       "AND author = 'person'", c=conv_b.id)  # fmt: skip
    assert text_back.accepted_at is not None
    assert text_back.accepted_at > call.occurred_at
    text_back_seconds = (text_back.accepted_at - call.occurred_at).total_seconds()
    person_seconds = [
        (person.created_at - handoff.at).total_seconds(),
        (person.created_at - b_texts[1].created_at).total_seconds(),
    ]
    assert all(s > 0 for s in person_seconds)

    today = local(call.occurred_at)
    days = (today - timedelta(days=1), today, today + timedelta(days=1))
    first = {day: await recompute_day(new_uow(), tenant.id, day) for day in days}
    before = await stored_days(admin_engine, tenant.id)

    episodes = await rows(admin_engine, "SELECT conversation_id, start_type, started_at, "
                          "end_type, seconds FROM report_episodes WHERE tenant_id = :t",
                          t=tenant.id)  # fmt: skip
    assert {(e.start_type, e.end_type, e.seconds) for e in episodes
            if e.conversation_id == call.conversation_id} == {
        ("missed_call", "text_back", text_back_seconds),
        ("inbound", "assistant", 0.0),
    }  # fmt: skip
    assert sorted((e.start_type, e.end_type, e.seconds) for e in episodes
                  if e.conversation_id == conv_b.id) == sorted([
        ("inbound", "assistant", 0.0),
        ("handoff", "person", person_seconds[0]),
        ("inbound", "person", person_seconds[1]),
    ])  # fmt: skip

    # Each latency belongs to the local day its episode started (all "today" but at midnight).
    text_back_row = before[local(call.occurred_at), "text_back_seconds"]
    assert text_back_row[:3] == (1, text_back_seconds, text_back_seconds)
    assert sum(before[d, "text_back_seconds"][0] for d in days) == 1
    assert sum(before[d, "first_response_seconds"][0] for d in days) == 2
    if local(handoff.at) == local(b_texts[1].created_at):
        row = before[local(handoff.at), "first_response_seconds"]
        assert row[0] == 2
        assert row[1] == pytest.approx(p(person_seconds, 0.5), abs=1e-9)
        assert row[2] == pytest.approx(p(person_seconds, 0.95), abs=1e-9)
    assert sum(before[d, "missed_calls"][0] for d in days) == 1
    assert sum(before[d, "text_backs_sent"][0] for d in days) == 1
    assert sum(before[d, "conversations_replied"][0] for d in days) == 2
    assert sum(before[d, "bookings"][0] for d in days) == 0
    assert {before[d, "recovered_revenue_cents"][::4] for d in days} == {(0, 0)}
    assert {(d, m) for d, m in before} == {(d, m) for d in days for m in
                                           {m for _, m in before}}  # fmt: skip
    assert len(before) == 3 * 11

    # Recomputing changes nothing (ON CONFLICT DO UPDATE with the same values).
    for day in days:
        assert list(await recompute_day(new_uow(), tenant.id, day)) == list(first[day])
    assert await stored_days(admin_engine, tenant.id) == before

    # The late event: A asks for the job and books the first offer; the catalog price changes.
    assert await texts(a, JOB) is InboundOutcome.ANSWERED
    assert await texts(a, "1") is InboundOutcome.ANSWERED
    booking = await one(admin_engine, "SELECT id, booked_at, price_cents FROM bookings "
                        "WHERE tenant_id = :t AND status = 'booked'", t=tenant.id)  # fmt: skip
    assert booking.price_cents == 18_900
    await update_item(new_uow(), owner, item.id, {"price_cents": 25_000})
    booked_day = local(booking.booked_at)
    for day in days:
        await recompute_day(new_uow(), tenant.id, day)
    after = await stored_days(admin_engine, tenant.id)

    for day in days:
        bookings = 1 if day == booked_day else 0
        assert after[day, "bookings"][0] == bookings
        assert after[day, "recovered_revenue_cents"][::4] == (bookings, 18_900 * bookings)
    changed = {key for key in before if before[key] != after[key]}
    # Only the booking's day changed (its bookings, revenue, quotes, offers and the
    # assistant's two new answers), and nothing of the other days.
    assert {day for day, _ in changed} == {booked_day}
    assert {m for _, m in changed} == {
        "bookings", "recovered_revenue_cents", "quotes", "offers", "assistant_response_seconds",
    }  # fmt: skip

    # Canceled: out of bookings and revenue on the next recompute of its day.
    await cancel_appointment(new_uow(), owner, booking.id)
    await recompute_day(new_uow(), tenant.id, booked_day)
    canceled = await stored_days(admin_engine, tenant.id)
    assert canceled[booked_day, "bookings"][0] == 0
    assert canceled[booked_day, "recovered_revenue_cents"][::4] == (0, 0)

    # A release closes the person's stretch in the table too.
    await release_conversation(new_uow(), owner, conv_b.id)
    [released] = await rows(admin_engine, "SELECT at, released_at FROM conversation_handoffs "
                            "WHERE conversation_id = :c", c=conv_b.id)  # fmt: skip
    assert released.at == handoff.at
    assert released.released_at is not None
    assert released.released_at > person.created_at
