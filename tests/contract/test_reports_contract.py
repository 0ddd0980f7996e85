"""Contract of reporting (uow.reports, uow.handoffs) and its recompute, on the fakes and on
PostgreSQL: a day's timelines read back whole, episodes written once, daily rows replaced so a
recompute gives identical rows, and a late event changing its own day only."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import attrs

from nmc_domain.conversation.handoffs import new_handoff
from nmc_domain.conversation.model import OpenedBy
from nmc_domain.messaging.model import Author, InboundMessage, MessageStatus
from nmc_domain.reporting.model import DailyRow, EndType, Episode, StartType, TimelineKind
from nmc_domain.reporting.use_cases import recompute_day, tenant_daily_report
from tests.contract.backends import Backend
from tests.contract.builders import a_call, a_message, stored_tenant
from tests.support.tenants import caller_number

BUSINESS = "+14155550100"
DAY = date(2026, 3, 8)  # spring forward in Chicago: 23 hours, 06:00Z to 05:00Z
CALL_AT = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)


def _s(seconds: float) -> datetime:
    return CALL_AT + timedelta(seconds=seconds)


async def _story(backend: Backend) -> tuple[uuid.UUID, uuid.UUID]:
    """A missed call, its text-back accepted 2 s later, a reply the assistant answers at
    once, a hand-off at 120 s and a person's text at 420 s."""
    tenant, _ = await stored_tenant(backend.new_uow)
    caller = caller_number()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        conversation, _ = await uow.conversations.open_or_get(
            tenant.id, caller, BUSINESS, CALL_AT, OpenedBy.CALL
        )
        await uow.calls.add(a_call(tenant.id, conversation.id, CALL_AT, "CA" + uuid.uuid4().hex))
        text_back = a_message(tenant.id, CALL_AT, conversation_id=conversation.id)
        await uow.messages.add(attrs.evolve(text_back, status=MessageStatus.SENT,
                                            accepted_at=_s(2)))  # fmt: skip
        await uow.messages.add_inbound(InboundMessage(
            uuid.uuid4(), tenant.id, conversation.id, caller, BUSINESS,
            "my water heater is leaking", "SM" + uuid.uuid4().hex, _s(60),
        ))  # fmt: skip
        for author, seconds in ((Author.ASSISTANT, 60), (Author.PERSON, 420)):
            reply = a_message(tenant.id, _s(seconds), conversation_id=conversation.id)
            await uow.messages.add(attrs.evolve(reply, author=author))
        await uow.handoffs.add(new_handoff(tenant.id, conversation.id, _s(120), "asked"))
        await uow.commit()
    return tenant.id, conversation.id


async def test_activity_reads_the_whole_timeline_of_a_days_conversations(
    backend: Backend,
) -> None:
    tenant_id, conversation_id = await _story(backend)
    start, end = CALL_AT - timedelta(hours=1), CALL_AT + timedelta(hours=1)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        activity = await uow.reports.activity(tenant_id, start, end)
        later = await uow.reports.activity(tenant_id, end, end + timedelta(hours=1))
        handoffs = await uow.handoffs.of_conversation(tenant_id, conversation_id)
    assert [t.conversation_id for t in activity.timelines] == [conversation_id]
    kinds = sorted((e.at, e.kind.value) for e in activity.timelines[0].events)
    assert kinds == [
        (CALL_AT, "missed_call"), (CALL_AT, "text_back"), (_s(60), "assistant"),
        (_s(60), "inbound"), (_s(120), "handoff"), (_s(420), "person"),
    ]  # fmt: skip
    text_back = next(e for e in activity.timelines[0].events if e.kind is TimelineKind.TEXT_BACK)
    assert text_back.accepted_at == _s(2)
    assert activity.missed_calls == (CALL_AT,)
    assert activity.text_backs_accepted == (_s(2),)
    assert later.timelines == ()
    assert later.missed_calls == ()
    assert [(h.at, h.released_at) for h in handoffs] == [(_s(120), None)]


async def test_a_release_ends_the_running_handoff_only(backend: Backend) -> None:
    tenant_id, conversation_id = await _story(backend)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        assert await uow.handoffs.release(tenant_id, conversation_id, _s(600)) == 1
        assert await uow.handoffs.release(tenant_id, conversation_id, _s(700)) == 0
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        found = await uow.handoffs.of_conversation(tenant_id, conversation_id)
    assert [(h.at, h.released_at) for h in found] == [(_s(120), _s(600))]


async def test_episodes_are_written_once_and_read_by_start(backend: Backend) -> None:
    tenant_id, conversation_id = await _story(backend)
    first = Episode(tenant_id, conversation_id, StartType.INBOUND, _s(60), EndType.ASSISTANT,
                    _s(61))  # fmt: skip
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        assert await uow.reports.add_episodes([first]) == 1
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        again = attrs.evolve(first, end_type=EndType.PERSON, ended_at=_s(900))
        assert await uow.reports.add_episodes([again]) == 0  # the first end found stays
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        assert list(await uow.reports.episodes(tenant_id, _s(0), _s(61))) == [first]
        assert list(await uow.reports.episodes(tenant_id, _s(61), _s(900))) == []
        assert list(await uow.reports.episodes(uuid.uuid4(), _s(0), _s(61))) == []


async def test_days_are_replaced_whole_and_read_by_range_and_metric(backend: Backend) -> None:
    tenant_id, _ = await _story(backend)
    row = DailyRow(DAY, "text_back_seconds", 2, 1.5, 1.95, (0, 2) + (0,) * 11)
    count = DailyRow(DAY, "recovered_revenue_cents", 1, total=18900)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        await uow.reports.save_days(tenant_id, [row, count])
        await uow.reports.save_days(tenant_id, [attrs.evolve(count, count=2, total=37800)])
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        every = await uow.reports.days(tenant_id, DAY, DAY, None)
        one = await uow.reports.days(tenant_id, DAY, DAY, "text_back_seconds")
        before = await uow.reports.days(
            tenant_id, DAY - timedelta(days=3), DAY - timedelta(1), None
        )
    assert list(every) == [DailyRow(DAY, "recovered_revenue_cents", 2, total=37800), row]
    assert list(one) == [row]
    assert list(before) == []


async def test_recomputing_a_day_gives_identical_rows_and_a_late_event_its_own_day(
    backend: Backend,
) -> None:
    tenant_id, _ = await _story(backend)
    first = await recompute_day(backend.new_uow(), tenant_id, DAY)
    before = await recompute_day(backend.new_uow(), tenant_id, DAY - timedelta(days=1))
    latency = {r.metric: (r.count, r.p50, r.p95) for r in first if r.count}
    assert latency == {
        "text_back_seconds": (1, 2.0, 2.0),
        "assistant_response_seconds": (1, 0.0, 0.0),
        "first_response_seconds": (1, 300.0, 300.0),  # hand-off at 120 s, a person at 420 s
        "missed_calls": (1, None, None),
        "text_backs_sent": (1, None, None),
        "conversations_replied": (1, None, None),
    }
    again = await recompute_day(backend.new_uow(), tenant_id, DAY)
    stored = await tenant_daily_report(backend.new_uow(), tenant_id, DAY, DAY, None)
    assert list(again) == list(first)
    assert sorted(stored, key=lambda r: r.metric) == sorted(first, key=lambda r: r.metric)

    # A late event: another missed call that day, recorded after the first recompute.
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        await uow.calls.add(a_call(tenant_id, None, _s(3600), "CA" + uuid.uuid4().hex))
        await uow.commit()
    await recompute_day(backend.new_uow(), tenant_id, DAY - timedelta(days=1))
    await recompute_day(backend.new_uow(), tenant_id, DAY)
    window = (DAY - timedelta(days=1), DAY)
    after = await tenant_daily_report(backend.new_uow(), tenant_id, *window, "missed_calls")
    assert [(r.day, r.count) for r in after] == [(DAY - timedelta(days=1), 0), (DAY, 2)]
    previous = await tenant_daily_report(backend.new_uow(), tenant_id, *window[:1] * 2, None)
    assert sorted(previous, key=lambda r: r.metric) == sorted(before, key=lambda r: r.metric)
