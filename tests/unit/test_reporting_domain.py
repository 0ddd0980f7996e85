"""Reporting's pure rules: episodes (with the peers' regressions), percentiles against a
brute-force reference, bucket merges, revenue attribution, and tenant-local days at DST."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, note
from hypothesis import strategies as st

from nmc_domain.reporting.days import day_bounds, local_day
from nmc_domain.reporting.episodes import episodes_of
from nmc_domain.reporting.model import (
    Activity,
    BookingFact,
    DailyRow,
    EndType,
    ReportingSettings,
    StartType,
    Timeline,
    TimelineEvent,
    TimelineKind,
)
from nmc_domain.reporting.rollup import daily_rows, merge_latency, merge_totals, recovered
from nmc_domain.reporting.stats import (
    bucket_counts,
    bucket_percentile,
    merge_buckets,
    percentile_cont,
)

K = TimelineKind
TENANT = uuid.UUID("00000000-0000-4000-8000-00000000ac4e")
CONVERSATION = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
CHICAGO = ZoneInfo("America/Chicago")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(kind: TimelineKind, seconds: float, **kw: datetime | None) -> TimelineEvent:
    return TimelineEvent(kind, at(seconds), **kw)  # type: ignore[arg-type]


def episodes(*events: TimelineEvent) -> list[tuple[str, float, str, float]]:
    found = episodes_of(TENANT, Timeline(CONVERSATION, events))
    return [
        (e.start_type.value, (e.started_at - T0).total_seconds(), e.end_type.value, e.seconds)
        for e in found
    ]


# --- episodes ---------------------------------------------------------------------------------


def test_a_missed_call_ends_when_the_provider_accepted_the_text_back() -> None:
    found = episodes(ev(K.MISSED_CALL, 0), ev(K.TEXT_BACK, 0, accepted_at=at(1.5)))
    assert found == [("missed_call", 0.0, "text_back", 1.5)]


def test_a_text_back_never_accepted_leaves_no_latency() -> None:
    assert episodes(ev(K.MISSED_CALL, 0), ev(K.TEXT_BACK, 0)) == []


def test_an_outbound_text_before_any_inbound_starts_nothing() -> None:
    assert episodes(ev(K.PERSON, 0), ev(K.ASSISTANT, 5), ev(K.COMPLIANCE, 9)) == []


def test_an_inbound_answered_by_the_assistant_and_a_second_inbound_before_it() -> None:
    found = episodes(ev(K.INBOUND, 10), ev(K.INBOUND, 12), ev(K.ASSISTANT, 14))
    assert found == [("inbound", 10.0, "assistant", 4.0)]  # the first text waited


def test_chatwoot_12058_coming_back_days_later_is_a_new_episode() -> None:
    days = 3 * 86400
    found = episodes(
        ev(K.MISSED_CALL, 0),
        ev(K.TEXT_BACK, 0, accepted_at=at(1)),
        ev(K.INBOUND, 30),
        ev(K.ASSISTANT, 30),
        ev(K.INBOUND, days),
        ev(K.ASSISTANT, days + 2),
    )
    assert found == [
        ("missed_call", 0.0, "text_back", 1.0),
        ("inbound", 30.0, "assistant", 0.0),
        ("inbound", float(days), "assistant", 2.0),
    ]


def test_chatwoot_12058_a_person_answering_days_later_after_a_handled_thread() -> None:
    days = 2 * 86400
    found = episodes(
        ev(K.HANDOFF, 0),
        ev(K.PERSON, 60),
        ev(K.INBOUND, days),
        ev(K.PERSON, days + 90),
    )
    assert found == [("handoff", 0.0, "person", 60.0), ("inbound", float(days), "person", 90.0)]


def test_chatwoot_13312_automated_texts_never_end_a_persons_episode() -> None:
    found = episodes(
        ev(K.INBOUND, 0),
        ev(K.HANDOFF, 0),
        ev(K.ASSISTANT, 0),  # "a person will get back to you": ends the inbound's episode only
        ev(K.COMPLIANCE, 10),
        ev(K.TEXT_BACK, 20, accepted_at=at(21)),
        ev(K.INBOUND, 40),  # while human: a person's episode, which automated texts do not end
        ev(K.ASSISTANT, 50),
        ev(K.PERSON, 300),
    )
    assert found == [
        ("inbound", 0.0, "assistant", 0.0),
        ("inbound", 40.0, "person", 260.0),
        ("handoff", 0.0, "person", 300.0),
    ]


def test_a_handoff_given_back_before_a_person_answered_has_no_latency() -> None:
    found = episodes(
        ev(K.HANDOFF, 0, released_at=at(100)),
        ev(K.INBOUND, 50),  # while human, abandoned by the release too
        ev(K.INBOUND, 200),  # with the assistant again: a new episode
        ev(K.PERSON, 250),
    )
    assert found == [("inbound", 200.0, "person", 50.0)]


def test_an_episode_without_its_end_is_not_returned() -> None:
    assert episodes(ev(K.INBOUND, 0), ev(K.HANDOFF, 5)) == []


def test_episodes_sort_their_timeline_whatever_the_order_given() -> None:
    found = episodes(ev(K.ASSISTANT, 3), ev(K.INBOUND, 1))
    assert found == [("inbound", 1.0, "assistant", 2.0)]


# --- percentiles and buckets ------------------------------------------------------------------


def brute_percentile(values: list[float], q: float) -> float:
    """PostgreSQL's definition, written from its documentation with exact fractions: the
    value at fractional row number 1 + q*(n-1), interpolated between its neighbours."""
    ordered = sorted(Fraction(v) for v in values)
    row = 1 + Fraction(q) * (len(ordered) - 1)
    below = ordered[int(row) - 1]
    above = ordered[min(int(row), len(ordered) - 1)]
    return float(below + (above - below) * (row - int(row)))


latencies = st.lists(
    st.one_of(st.integers(0, 5000).map(float), st.floats(0, 5000, allow_nan=False)),
    min_size=1,
    max_size=40,
)


@given(latencies, st.sampled_from([0.0, 0.5, 0.95, 1.0, 0.25]))
def test_percentile_cont_matches_the_reference(values: list[float], q: float) -> None:
    note(f"n={len(values)} distinct={len(set(values))}")
    assert math.isclose(percentile_cont(values, q) or 0.0, brute_percentile(values, q),
                        rel_tol=1e-12, abs_tol=1e-9)  # fmt: skip


def test_percentile_cont_literal_examples_with_duplicates() -> None:
    assert percentile_cont([], 0.5) is None
    assert percentile_cont([7.0], 0.95) == 7.0
    assert percentile_cont([1.0, 2.0, 2.0, 10.0], 0.5) == 2.0
    assert percentile_cont([1.0, 2.0, 3.0, 10.0], 0.5) == 2.5
    assert math.isclose(percentile_cont([1.0, 2.0, 3.0, 10.0], 0.95) or 0.0, 8.95)


def test_buckets_count_values_up_to_each_inclusive_bound() -> None:
    counts = bucket_counts([0.0, 1.0, 1.01, 2.0, 59.9, 60.0, 3600.0, 3600.5, 90000.0])
    assert counts == (2, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 2)


def test_merged_percentiles_come_from_merged_buckets_not_averages() -> None:
    monday = DailyRow(date(2026, 3, 2), "text_back_seconds", 3, 1.0, 1.9, bucket_counts([1, 1, 2]))
    tuesday = DailyRow(date(2026, 3, 3), "text_back_seconds", 1, 500.0, 500.0,
                       bucket_counts([500]))  # fmt: skip
    merged = merge_latency([monday, tuesday])
    # Averaging p95s would give 250.95; the merged buckets put the 4th of 4 values at <= 600.
    assert (merged.count, merged.p50, merged.p95) == (4, 1.0, 600.0)
    assert merge_latency([monday]) == merge_latency([monday, DailyRow(date(2026, 3, 4),
                                                     "text_back_seconds", 0)])  # fmt: skip
    assert merge_latency([monday]).p95 == 1.9  # one day keeps its exact value
    assert merge_latency([]).count == 0


def test_bucket_percentile_reads_the_open_bucket_as_its_lower_bound() -> None:
    assert bucket_percentile(bucket_counts([5000.0]), 0.5) == 3600
    assert bucket_percentile(merge_buckets([]), 0.5) is None


@given(st.lists(st.floats(0, 10000, allow_nan=False), min_size=2, max_size=50))
def test_a_merged_percentile_never_falls_below_the_exact_one(values: list[float]) -> None:
    half = len(values) // 2
    merged = merge_buckets([bucket_counts(values[:half]), bucket_counts(values[half:])])
    exact = percentile_cont(values, 0.95)
    assert exact is not None
    found = bucket_percentile(merged, 0.95)
    assert found is not None
    assert found >= min(exact, 3600.0)


# --- revenue and the funnel -------------------------------------------------------------------

CALL = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
WEEK = ReportingSettings()


def booking(booked_after: timedelta, *, status: str = "booked", price: int = 18900,
            call_at: datetime | None = CALL) -> BookingFact:  # fmt: skip
    return BookingFact(uuid.uuid4(), CONVERSATION, status, CALL, CALL + booked_after, price,
                       call_at)  # fmt: skip


def test_revenue_window_edge_is_inclusive_and_canceled_or_text_opened_leave() -> None:
    assert recovered(booking(timedelta(days=7)), WEEK)
    assert not recovered(booking(timedelta(days=7, microseconds=1)), WEEK)
    assert not recovered(booking(timedelta(hours=1), status="canceled"), WEEK)
    assert not recovered(booking(timedelta(hours=1), call_at=None), WEEK)
    assert recovered(booking(timedelta(days=9)), ReportingSettings(timedelta(days=10)))


def test_a_days_rows_count_the_funnel_and_the_price_snapshot() -> None:
    start, end = day_bounds(date(2026, 3, 2), CHICAGO)
    # A price change in the catalog does not reach here: the snapshot on the booking counts.
    won = booking(timedelta(hours=2), price=18900)
    canceled = booking(timedelta(hours=3), status="canceled", price=50000)
    late = booking(timedelta(days=8), price=7000)  # booked on another day: not this one
    other_quote = BookingFact(uuid.uuid4(), CONVERSATION, "released", CALL + timedelta(hours=1),
                              None, None, CALL)  # fmt: skip
    activity = Activity(
        timelines=(Timeline(CONVERSATION, (TimelineEvent(K.INBOUND, CALL),)),),
        missed_calls=(CALL, end),  # the next day's midnight belongs to the next day
        text_backs_accepted=(CALL,),
        opt_outs=(start,),
        bookings=(won, canceled, late, other_quote),
    )
    rows = {row.metric: row for row in daily_rows(date(2026, 3, 2), start, end, (), activity,
                                                   WEEK)}  # fmt: skip
    counts = {metric: (row.count, row.total) for metric, row in rows.items()}
    assert counts == {
        "text_back_seconds": (0, None),
        "first_response_seconds": (0, None),
        "assistant_response_seconds": (0, None),
        "missed_calls": (1, None),
        "text_backs_sent": (1, None),
        "conversations_replied": (1, None),
        "quotes": (2, None),  # the three holds at CALL are one quote; the one an hour on another
        "offers": (4, None),
        "bookings": (1, None),
        "recovered_revenue_cents": (1, 18900),
        "opt_outs": (1, None),
    }
    assert rows["text_back_seconds"].buckets == (0,) * 13
    assert merge_totals(rows.values())["recovered_revenue_cents"] == 18900


# --- tenant-local days ------------------------------------------------------------------------


def test_spring_forward_day_has_23_hours_and_fall_back_25() -> None:
    spring = day_bounds(date(2026, 3, 8), CHICAGO)
    fall = day_bounds(date(2026, 11, 1), CHICAGO)
    assert spring == (datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2026, 3, 9, 5, tzinfo=UTC))
    assert fall == (datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 2, 6, tzinfo=UTC))
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert fall[1] - fall[0] == timedelta(hours=25)
    assert local_day(datetime(2026, 11, 2, 5, 59, tzinfo=UTC), CHICAGO) == date(2026, 11, 1)
    assert local_day(datetime(2026, 11, 2, 6, 0, tzinfo=UTC), CHICAGO) == date(2026, 11, 2)


def test_an_episode_belongs_to_the_local_day_it_started_across_fall_back() -> None:
    start, end = day_bounds(date(2026, 11, 1), CHICAGO)
    timeline = Timeline(CONVERSATION, (
        TimelineEvent(K.MISSED_CALL, end - timedelta(minutes=30)),  # 23:30 CST, 25th hour
        TimelineEvent(K.TEXT_BACK, end - timedelta(minutes=30),
                      accepted_at=end + timedelta(seconds=3)),
        TimelineEvent(K.MISSED_CALL, end + timedelta(minutes=1)),  # the next day
        TimelineEvent(K.TEXT_BACK, end + timedelta(minutes=1),
                      accepted_at=end + timedelta(minutes=1, seconds=2)),
    ))  # fmt: skip
    found = episodes_of(TENANT, timeline)
    assert [e.start_type for e in found] == [StartType.MISSED_CALL, StartType.MISSED_CALL]
    assert [e.end_type for e in found] == [EndType.TEXT_BACK, EndType.TEXT_BACK]
    rows = daily_rows(date(2026, 11, 1), start, end, found, Activity(), WEEK)
    assert (rows[0].metric, rows[0].count, rows[0].p50) == ("text_back_seconds", 1, 1803.0)
