"""The inbound sync's pure rules: which Google events are busy (all-day ones in the calendar's
zone, across DST changes), how long events are split, and what the shadow rows must become."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.scheduling.google import (
    GOOGLE,
    SYNC_PENDING_FOR,
    GoogleCalendarNotConfigured,
    GoogleLink,
    new_channel,
    token_matches,
)
from nmc_domain.scheduling.google_ports import GoogleEvent
from nmc_domain.scheduling.google_shadow import ShadowPlan, busy_pieces, plan_shadow, sync_window
from nmc_domain.scheduling.model import MAX_BUSY_BLOCK, BusyBlock

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TENANT = uuid.UUID("0e7f1c52-6a55-4d7e-9d4c-1a2b3c4d5e6f")
DANA = uuid.UUID("5a1d0c0e-0000-4000-8000-00000000da4a")
LINK = GoogleLink(TENANT, DANA, uuid.uuid4(), "primary", "sealed", NOW)
KEEP_AFTER = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def timed(event_id: str, start: datetime, hours: float = 1, **more: object) -> GoogleEvent:
    return GoogleEvent(
        event_id, "confirmed", start=start, end=start + timedelta(hours=hours), **more
    )  # type: ignore[arg-type]


def plan(
    link: GoogleLink, rows: list[BusyBlock], events: list[GoogleEvent], *, full: bool
) -> ShadowPlan:
    return plan_shadow(link, rows, events, full=full, zone=CHICAGO, keep_after=KEEP_AFTER)


def block(external_id: str, start: datetime, end: datetime) -> BusyBlock:
    return BusyBlock(uuid.uuid4(), TENANT, DANA, start, end, GOOGLE, external_id)


MON_9 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def test_an_all_day_event_across_spring_forward_is_23_hours_of_chicago() -> None:
    event = GoogleEvent(
        "dstspring", "confirmed", start_date=date(2026, 3, 8), end_date=date(2026, 3, 9)
    )

    (piece,) = busy_pieces(event, CHICAGO)

    assert piece == (
        "dstspring",
        datetime(2026, 3, 8, 6, 0, tzinfo=UTC),  # midnight CST
        datetime(2026, 3, 9, 5, 0, tzinfo=UTC),  # midnight CDT
    )
    assert piece[2] - piece[1] == timedelta(hours=23)


def test_an_all_day_event_across_fall_back_is_25_hours_of_chicago() -> None:
    event = GoogleEvent(
        "dstfall", "confirmed", start_date=date(2026, 11, 1), end_date=date(2026, 11, 2)
    )

    (_, start, end) = busy_pieces(event, CHICAGO)[0]

    assert (start, end - start) == (datetime(2026, 11, 1, 5, 0, tzinfo=UTC), timedelta(hours=25))


def test_all_day_events_take_the_calendars_zone_not_utc() -> None:
    event = GoogleEvent(
        "offsite", "confirmed", start_date=date(2026, 3, 3), end_date=date(2026, 3, 5)
    )

    (_, start, end) = busy_pieces(event, ZoneInfo("Asia/Tokyo"))[0]

    assert (start, end) == (
        datetime(2026, 3, 2, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 15, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "event",
    [
        GoogleEvent("gone", "cancelled", start=MON_9, end=MON_9 + timedelta(hours=1)),
        timed("lunch", MON_9, transparency="transparent"),
        timed("nmc" + uuid.uuid4().hex, MON_9),  # our own appointment, coming back
        timed("copied", MON_9, private={"nmc_appointment_id": str(uuid.uuid4())}),
        GoogleEvent("notimes", "confirmed"),
        GoogleEvent("reminder", "confirmed", start=MON_9, end=MON_9),  # zero length
    ],
    ids=["cancelled", "transparent", "our-id", "our-property", "no-times", "zero-length"],
)
def test_events_that_are_not_busy_for_us(event: GoogleEvent) -> None:
    assert busy_pieces(event, CHICAGO) == ()


def test_opaque_tentative_and_unmarked_events_are_busy() -> None:
    for event in (
        timed("opaque", MON_9, transparency="opaque"),
        GoogleEvent("maybe", "tentative", start=MON_9, end=MON_9 + timedelta(hours=2)),
        timed("plain", MON_9),
        timed("junk", MON_9, private={"nmc_appointment_id": "not-a-uuid"}),
    ):
        assert len(busy_pieces(event, CHICAGO)) == 1


def test_a_long_event_is_split_into_pieces_of_at_most_31_days() -> None:
    start = datetime(2026, 3, 1, 0, 0, tzinfo=CHICAGO)  # across the spring DST change
    event = GoogleEvent("sabbatical", "confirmed", start=start, end=start + timedelta(days=70))

    pieces = busy_pieces(event, CHICAGO)

    assert [name for name, _, _ in pieces] == ["sabbatical", "sabbatical#1", "sabbatical#2"]
    assert all(end - begin <= MAX_BUSY_BLOCK for _, begin, end in pieces)
    assert pieces[0][1] == start
    assert pieces[-1][2] == event.end
    assert all(a[2] == b[1] for a, b in itertools.pairwise(pieces))


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=400)),
)
def test_pieces_cover_the_event_exactly(start: datetime, length: timedelta) -> None:
    # As the adapter reads them: aware times with the offset Google wrote (here Chicago's).
    begin, finish = start.astimezone(CHICAGO), (start + length).astimezone(CHICAGO)
    event = GoogleEvent("anyevent", "confirmed", start=begin, end=finish)

    pieces = busy_pieces(event, CHICAGO)

    assert pieces[0][1] == begin
    assert pieces[-1][2] == finish
    assert all(timedelta(0) < end - first <= MAX_BUSY_BLOCK for _, first, end in pieces)
    assert all(a[2] == b[1] for a, b in itertools.pairwise(pieces))


def test_the_full_window_runs_from_yesterdays_to_past_the_horizons_last_local_midnight() -> None:
    start, end = sync_window(date(2026, 3, 7), 14, CHICAGO)

    assert start == datetime(2026, 3, 6, 6, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 22, 5, 0, tzinfo=UTC)  # CDT by then


def test_an_incremental_plan_touches_only_the_events_it_names() -> None:
    moved = block("moved", MON_9, MON_9 + timedelta(hours=1))
    kept = block("untouched", MON_9, MON_9 + timedelta(hours=1))
    same = block("same", MON_9, MON_9 + timedelta(hours=3))
    events = [
        timed("moved", MON_9 + timedelta(days=1)),
        timed("same", MON_9, hours=3),
        timed("fresh", MON_9 + timedelta(days=2)),
        GoogleEvent("unknown", "cancelled"),
    ]

    done = plan_shadow(
        LINK, [moved, kept, same], events, full=False, zone=CHICAGO, keep_after=KEEP_AFTER
    )

    assert {b.external_id: b.start for b in done.put} == {
        "moved": MON_9 + timedelta(days=1),
        "fresh": MON_9 + timedelta(days=2),
    }
    assert next(b for b in done.put if b.external_id == "moved").id == moved.id  # moved, same row
    fresh = next(b for b in done.put if b.external_id == "fresh")
    assert (fresh.tenant_id, fresh.technician_id, fresh.source) == (TENANT, DANA, GOOGLE)
    assert (done.remove, done.changed, done.pruned) == ((), 2, 0)


def test_later_entries_of_one_event_win_and_a_shrunk_event_drops_its_extra_pieces() -> None:
    long_rows = [
        block("trip", MON_9, MON_9 + MAX_BUSY_BLOCK),
        block("trip#1", MON_9 + MAX_BUSY_BLOCK, MON_9 + MAX_BUSY_BLOCK + timedelta(days=3)),
    ]
    events = [timed("trip", MON_9, hours=24 * 40), timed("trip", MON_9, hours=48)]

    done = plan(LINK, long_rows, events, full=False)

    assert [(b.external_id, b.end - b.start) for b in done.put] == [("trip", timedelta(hours=48))]
    assert done.remove == ("trip#1",)
    assert done.changed == 2


def test_a_full_plan_replaces_every_row_and_prunes_the_past_without_counting_it() -> None:
    old = block("deleted-while-we-slept", MON_9, MON_9 + timedelta(hours=1))
    past = block("last-month", KEEP_AFTER - timedelta(days=30), KEEP_AFTER - timedelta(days=29))
    same = block("same", MON_9, MON_9 + timedelta(hours=1))
    events = [timed("same", MON_9), timed("yesterday-morning", KEEP_AFTER - timedelta(hours=3))]

    done = plan_shadow(
        LINK, [old, past, same], events, full=True, zone=CHICAGO, keep_after=KEEP_AFTER
    )

    assert done.put == ()  # the event that ended before the window is not written
    assert set(done.remove) == {"deleted-while-we-slept", "last-month"}
    assert (done.changed, done.pruned) == (1, 1)


def test_an_incremental_plan_prunes_rows_that_ended_before_the_window() -> None:
    past = block("last-month", KEEP_AFTER - timedelta(days=30), KEEP_AFTER - timedelta(days=29))

    done = plan(LINK, [past], [], full=False)

    assert (done.remove, done.changed, done.pruned) == (("last-month",), 0, 1)


def test_channel_tokens_are_kept_hashed_and_compared_whole() -> None:
    channel, token = new_channel(TENANT, DANA, NOW)

    assert token not in channel.token_hash
    assert len(channel.token_hash) == 64
    assert token_matches(channel, token)
    assert not token_matches(channel, token[:-1])
    assert not token_matches(channel, None)
    assert channel.live
    assert not channel.watched


def test_a_queued_sync_is_presumed_lost_after_half_an_hour() -> None:
    queued = attrs.evolve(LINK, sync_requested_at=NOW)
    assert queued.sync_pending(NOW + SYNC_PENDING_FOR - timedelta(seconds=1))
    assert not queued.sync_pending(NOW + SYNC_PENDING_FOR)
    assert not LINK.sync_pending(NOW)


def test_not_configured_reads_as_such() -> None:
    assert str(GoogleCalendarNotConfigured()) == "Google Calendar is not configured"
