"""Reports in memory: the day's activity read from the store's tables, episodes kept once,
daily rows replaced."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from nmc_adapters.memory.spec import Views, require_tenant
from nmc_domain.reporting.model import (
    Activity,
    BookingFact,
    DailyRow,
    Episode,
    Timeline,
    TimelineEvent,
    TimelineKind,
)

__all__ = ["InMemoryReports"]

K = TimelineKind


def _of(rows: Iterable[Any], tenant_id: UUID) -> list[Any]:
    return [row for row in rows if row.tenant_id == tenant_id]


class InMemoryReports:
    def __init__(self, views: Views) -> None:
        self._views = views
        self._episodes = views["report_episodes"]
        self._days = views["report_daily"]

    def _table(self, name: str, tenant_id: UUID) -> list[Any]:
        return _of(self._views[name].values(), tenant_id)

    async def tenant_ids(self) -> Sequence[UUID]:
        return sorted(set(self._views["numbers"].values()))

    def _events(self, tenant_id: UUID) -> list[tuple[UUID | None, TimelineEvent]]:
        events: list[tuple[UUID | None, TimelineEvent]] = []
        for message in self._table("inbound_messages", tenant_id):
            events.append((message.conversation_id, TimelineEvent(K.INBOUND, message.received_at)))
        for sent in self._table("messages", tenant_id):
            if sent.status != "canceled":
                kind = K(sent.author.value)
                events.append(
                    (sent.conversation_id, TimelineEvent(kind, sent.created_at, sent.accepted_at))
                )
        for call in self._table("calls", tenant_id):
            if call.outcome == "missed":
                events.append(
                    (call.conversation_id, TimelineEvent(K.MISSED_CALL, call.occurred_at))
                )
        for handoff in self._table("conversation_handoffs", tenant_id):
            event = TimelineEvent(K.HANDOFF, handoff.at, released_at=handoff.released_at)
            events.append((handoff.conversation_id, event))
        return events

    async def activity(self, tenant_id: UUID, start: datetime, end: datetime) -> Activity:
        def within(at: datetime | None) -> bool:
            return at is not None and start <= at < end

        events = self._events(tenant_id)
        active = {
            key
            for key, event in events
            if key is not None and (within(event.at) or within(event.accepted_at))
        }
        timelines = tuple(
            Timeline(key, tuple(event for other, event in events if other == key))
            for key in sorted(active)
        )
        calls = self._table("calls", tenant_id)
        return Activity(
            timelines=timelines,
            missed_calls=tuple(
                c.occurred_at for c in calls if c.outcome == "missed" and within(c.occurred_at)
            ),
            text_backs_accepted=tuple(
                m.accepted_at
                for m in self._table("messages", tenant_id)
                if m.author == "text_back" and within(m.accepted_at)
            ),
            opt_outs=tuple(
                e.occurred_at
                for e in self._table("opt_outs", tenant_id)
                if e.action == "opt_out" and within(e.occurred_at)
            ),
            bookings=tuple(
                self._fact(b, calls)
                for b in self._table("bookings", tenant_id)
                if (b.conversation_id is not None and within(b.held_at)) or within(b.booked_at)
            ),
        )

    def _fact(self, booking: Any, calls: list[Any]) -> BookingFact:
        conversation = self._views["conversations"].get(
            (booking.tenant_id, booking.conversation_id)
        )
        call_at = None
        if conversation is not None and conversation.opened_by == "call":
            times = [
                c.occurred_at
                for c in calls
                if c.conversation_id == booking.conversation_id and c.outcome == "missed"
            ]
            call_at = min(times, default=None)
        return BookingFact(
            id=booking.id,
            conversation_id=booking.conversation_id,
            status=booking.status.value,
            held_at=booking.held_at,
            booked_at=booking.booked_at,
            price_cents=booking.price_cents,
            call_at=call_at,
        )

    async def add_episodes(self, episodes: Sequence[Episode]) -> int:
        added = 0
        for episode in episodes:
            require_tenant(self._views["tenants"], episode.tenant_id)
            key = (episode.tenant_id, episode.conversation_id, episode.start_type,
                   episode.started_at)  # fmt: skip
            if key not in self._episodes:
                self._episodes[key] = episode
                added += 1
        return added

    async def episodes(self, tenant_id: UUID, start: datetime, end: datetime) -> Sequence[Episode]:
        found = [e for e in _of(self._episodes.values(), tenant_id) if start <= e.started_at < end]
        return sorted(found, key=lambda e: (e.started_at, e.conversation_id))

    async def save_days(self, tenant_id: UUID, rows: Sequence[DailyRow]) -> None:
        require_tenant(self._views["tenants"], tenant_id)
        for row in rows:
            self._days[tenant_id, row.day, row.metric] = row

    async def days(
        self, tenant_id: UUID, first: date, last: date, metric: str | None
    ) -> Sequence[DailyRow]:
        found = [
            row
            for (owner, day, name), row in self._days.items()
            if owner == tenant_id and first <= day <= last and metric in (None, name)
        ]
        return sorted(found, key=lambda row: (row.day, row.metric))
