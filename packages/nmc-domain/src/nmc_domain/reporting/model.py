"""Reporting's values: timelines read from the other contexts, episodes, and daily rows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = [
    "METRICS",
    "Activity",
    "BookingFact",
    "DailyRow",
    "EndType",
    "Episode",
    "Latency",
    "ReportingSettings",
    "StartType",
    "Summary",
    "Timeline",
    "TimelineEvent",
    "TimelineKind",
]


class TimelineKind(StrEnum):
    """What happened in a conversation, as reports see it."""

    MISSED_CALL = "missed_call"
    INBOUND = "inbound"
    HANDOFF = "handoff"
    TEXT_BACK = "text_back"
    ASSISTANT = "assistant"
    PERSON = "person"
    COMPLIANCE = "compliance"


@attrs.frozen
class TimelineEvent:
    """One event; `released_at` only for a hand-off, `accepted_at` only for outbound texts."""

    kind: TimelineKind
    at: datetime
    accepted_at: datetime | None = None
    released_at: datetime | None = None


@attrs.frozen
class Timeline:
    """Everything of one conversation reports need, in any order (episodes sort it)."""

    conversation_id: UUID
    events: tuple[TimelineEvent, ...]


class StartType(StrEnum):
    MISSED_CALL = "missed_call"
    INBOUND = "inbound"
    HANDOFF = "handoff"


class EndType(StrEnum):
    TEXT_BACK = "text_back"
    ASSISTANT = "assistant"
    PERSON = "person"


@attrs.frozen
class Episode:
    """A contact reaching the business and the first reply to it; written once."""

    tenant_id: UUID
    conversation_id: UUID
    start_type: StartType
    started_at: datetime
    end_type: EndType
    ended_at: datetime

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@attrs.frozen
class BookingFact:
    """A booking as revenue and the funnel see it.

    `held_at` is the hold's creation (an offer), `booked_at` when it became an appointment,
    `call_at` the first missed call of its conversation when a missed call opened it.
    """

    id: UUID
    conversation_id: UUID | None
    status: str
    held_at: datetime | None
    booked_at: datetime | None
    price_cents: int | None
    call_at: datetime | None


@attrs.frozen
class Activity:
    """What one tenant-local day needs from the other contexts (times on the database clock).

    `timelines`: whole timelines of the conversations with any event in the day;
    `missed_calls`, `text_backs_accepted`, `opt_outs`: the times of each within the day;
    `bookings`: bookings offered (held in a conversation) or booked within the day.
    """

    timelines: tuple[Timeline, ...] = ()
    missed_calls: tuple[datetime, ...] = ()
    text_backs_accepted: tuple[datetime, ...] = ()
    opt_outs: tuple[datetime, ...] = ()
    bookings: tuple[BookingFact, ...] = ()


# Latency metrics (count, p50, p95, buckets) then funnel counts (count; revenue has a total).
LATENCY_METRICS = ("text_back_seconds", "first_response_seconds", "assistant_response_seconds")
FUNNEL_METRICS = (
    "missed_calls",
    "text_backs_sent",
    "conversations_replied",
    "quotes",
    "offers",
    "bookings",
    "recovered_revenue_cents",
    "opt_outs",
)
METRICS = (*LATENCY_METRICS, *FUNNEL_METRICS)


@attrs.frozen
class DailyRow:
    """One metric of one tenant-local day (`report_daily`). Funnel metrics have no p50, p95
    or buckets; `total` is a sum (recovered revenue's cents), None for the others."""

    day: date
    metric: str
    count: int
    p50: float | None = None
    p95: float | None = None
    buckets: tuple[int, ...] = ()
    total: int | None = None


@attrs.frozen
class Latency:
    """A latency over a period: p50 and p95 exact for one day, bucket upper bounds when merged."""

    count: int
    p50: float | None
    p95: float | None


@attrs.frozen
class Summary:
    """A period's funnel totals and latencies."""

    first: date
    last: date
    missed_calls: int
    text_backs_sent: int
    conversations_replied: int
    quotes: int
    offers: int
    bookings: int
    recovered_revenue_cents: int
    opt_outs: int
    text_back: Latency
    first_response: Latency
    assistant_response: Latency


@attrs.frozen
class ReportingSettings:
    """A booking counts as recovered when booked within `recovery_window` of the missed call."""

    recovery_window: timedelta = timedelta(days=7)
