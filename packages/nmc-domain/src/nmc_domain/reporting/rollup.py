"""A day's rows (`report_daily`) from its episodes and activity; weeks and months merged.

Latencies belong to the day their episode started; funnel counts to the day each thing
happened (a booking to the day it was booked, its revenue too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

from nmc_domain.reporting.model import (
    FUNNEL_METRICS,
    Activity,
    BookingFact,
    DailyRow,
    EndType,
    Episode,
    Latency,
    ReportingSettings,
    StartType,
    TimelineKind,
)
from nmc_domain.reporting.stats import (
    bucket_counts,
    bucket_percentile,
    merge_buckets,
    percentile_cont,
)

__all__ = ["daily_rows", "merge_latency", "merge_totals", "recovered"]


def _latency(day: date, metric: str, seconds: Sequence[float]) -> DailyRow:
    return DailyRow(
        day=day,
        metric=metric,
        count=len(seconds),
        p50=percentile_cont(seconds, 0.5),
        p95=percentile_cont(seconds, 0.95),
        buckets=bucket_counts(seconds),
    )


def recovered(booking: BookingFact, settings: ReportingSettings) -> bool:
    """Booked (not canceled) within the window after the missed call that opened its
    conversation; the window's last instant still counts."""
    if booking.status != "booked" or booking.booked_at is None or booking.call_at is None:
        return False
    return booking.call_at <= booking.booked_at <= booking.call_at + settings.recovery_window


def _within(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def _funnel(
    activity: Activity, start: datetime, end: datetime, settings: ReportingSettings
) -> dict[str, tuple[int, int | None]]:
    def count(times: Iterable[datetime]) -> int:
        return sum(1 for at in times if _within(at, start, end))

    firsts = [
        min(
            (event.at for event in timeline.events if event.kind is TimelineKind.INBOUND),
            default=None,
        )
        for timeline in activity.timelines
    ]
    offered = [
        booking
        for booking in activity.bookings
        if booking.conversation_id is not None and _within(booking.held_at, start, end)
    ]
    booked = [
        booking
        for booking in activity.bookings
        if booking.status == "booked" and _within(booking.booked_at, start, end)
    ]
    won = [booking for booking in booked if recovered(booking, settings)]
    return {
        "missed_calls": (count(activity.missed_calls), None),
        "text_backs_sent": (count(activity.text_backs_accepted), None),
        "conversations_replied": (sum(1 for at in firsts if _within(at, start, end)), None),
        # One quote is one text of prices and times: its holds share that transaction's clock.
        "quotes": (len({(b.conversation_id, b.held_at) for b in offered}), None),
        "offers": (len(offered), None),
        "bookings": (len(booked), None),
        "recovered_revenue_cents": (len(won), sum(b.price_cents or 0 for b in won)),
        "opt_outs": (count(activity.opt_outs), None),
    }


def daily_rows(
    day: date,
    start: datetime,
    end: datetime,
    episodes: Iterable[Episode],
    activity: Activity,
    settings: ReportingSettings,
) -> tuple[DailyRow, ...]:
    """Every metric's row for the day [start, end), zeros included (a recompute overwrites)."""
    started = [episode for episode in episodes if start <= episode.started_at < end]
    text_back = [e.seconds for e in started if e.start_type is StartType.MISSED_CALL]
    person = [e.seconds for e in started if e.end_type is EndType.PERSON]
    assistant = [e.seconds for e in started if e.end_type is EndType.ASSISTANT]
    funnel = _funnel(activity, start, end, settings)
    return (
        _latency(day, "text_back_seconds", text_back),
        _latency(day, "first_response_seconds", person),
        _latency(day, "assistant_response_seconds", assistant),
        *(
            DailyRow(day=day, metric=metric, count=funnel[metric][0], total=funnel[metric][1])
            for metric in FUNNEL_METRICS
        ),
    )


def merge_latency(rows: Sequence[DailyRow]) -> Latency:
    """One latency over several days: counts and buckets added; p50/p95 read off the merged
    buckets (bucket resolution: the upper bound of the bucket holding it), never averaged.
    A single day keeps its exact values."""
    days = [row for row in rows if row.count]
    if len(days) == 1:
        return Latency(days[0].count, days[0].p50, days[0].p95)
    buckets = merge_buckets(row.buckets for row in days)
    return Latency(
        sum(row.count for row in days),
        bucket_percentile(buckets, 0.5),
        bucket_percentile(buckets, 0.95),
    )


def merge_totals(rows: Iterable[DailyRow]) -> dict[str, int]:
    """Funnel counts over several days (revenue: its cents)."""
    totals = dict.fromkeys(FUNNEL_METRICS, 0)
    for row in rows:
        if row.metric in totals:
            totals[row.metric] += row.total if row.total is not None else row.count
    return totals
