"""Unit tests for the scheduling model: weekly hours, settings, technicians, busy blocks and the
life of one booking (hold, book, release, cancel, move). Expected values are written by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import attrs
import pytest

from nmc_domain.scheduling.booking import Booking, BookingStatus, new_hold
from nmc_domain.scheduling.errors import HoldExpired, NotBookable, SlotTaken
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentHeld,
    AppointmentRescheduled,
)
from nmc_domain.scheduling.model import (
    BusyBlock,
    Closure,
    Period,
    Technician,
    Weekday,
    WeeklyHours,
    format_minutes,
    new_busy_block,
    new_closure,
    new_technician,
    parse_minutes,
    weekly_hours,
)
from nmc_domain.scheduling.settings import SETTING_RANGES, SchedulingSettings, change_settings
from nmc_domain.shared.errors import Conflict, Gone, InvalidInput

ACME = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
DANA = UUID("7ec40000-0000-4000-8000-00000000da1a")
RUIZ = UUID("7ec40000-0000-4000-8000-000000000512")
FLUSH = UUID("5e41ce00-0000-4000-8000-000000000001")
REPIPE = UUID("5e41ce00-0000-4000-8000-000000000002")
HOLD_ID = UUID("401d0000-0000-4000-8000-000000000001")
CALLER = "+15555550123"

# Monday 2025-01-06 09:00 in Chicago is 15:00 UTC.
NOW = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
START = datetime(2025, 1, 7, 16, 0, tzinfo=UTC)  # Tuesday 10:00 Chicago


def _invalid(call: object, *args: object, **kwargs: object) -> InvalidInput:
    assert callable(call)
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value


# --- weekly hours -----------------------------------------------------------------------------


def test_a_split_shift_is_two_periods_on_one_day_in_minutes() -> None:
    hours = weekly_hours([("mon", "08:00", "12:00"), ("mon", "13:00", "17:00")])

    assert hours == WeeklyHours(
        (Period(Weekday.MON, 480, 720), Period(Weekday.MON, 780, 1020)),
    )
    assert hours.on(0) == hours.periods
    assert hours.on(Weekday.TUE) == ()


def test_periods_come_out_sorted_by_day_then_start_whatever_the_input_order() -> None:
    hours = weekly_hours(
        [("fri", "13:00", "17:00"), ("MON", "09:00", "17:00"), (" fri ", "08:00", "12:00")]
    )

    assert hours.periods == (
        Period(Weekday.MON, 540, 1020),
        Period(Weekday.FRI, 480, 720),
        Period(Weekday.FRI, 780, 1020),
    )


def test_touching_periods_are_fine() -> None:
    hours = weekly_hours([("tue", "12:00", "17:00"), ("tue", "08:00", "12:00")])

    assert hours.on(Weekday.TUE) == (Period(Weekday.TUE, 480, 720), Period(Weekday.TUE, 720, 1020))


def test_a_period_may_end_at_midnight_written_24_00() -> None:
    hours = weekly_hours([("sat", "22:00", "24:00"), ("sun", "00:00", "06:00")])

    assert hours.periods == (Period(Weekday.SAT, 1320, 1440), Period(Weekday.SUN, 0, 360))


def test_the_same_times_on_different_days_do_not_overlap() -> None:
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    hours = weekly_hours([(day, "09:00", "17:00") for day in days])

    assert [period.weekday for period in hours.periods] == list(Weekday)


def test_no_periods_means_closed_every_day() -> None:
    assert weekly_hours([]) == WeeklyHours(())
    assert WeeklyHours().on(Weekday.WED) == ()


@pytest.mark.parametrize(
    ("periods", "field"),
    [
        ([("mon", "09:00", "17:00"), ("tue", "17:00", "09:00")], "periods[1]"),
        ([("wed", "10:00", "10:00")], "periods[0]"),
    ],
)
def test_a_period_ending_before_or_when_it_starts_is_refused(
    periods: list[tuple[str, str, str]], field: str
) -> None:
    error = _invalid(weekly_hours, periods)

    assert error.field == field
    assert "before it starts" in error.reason


@pytest.mark.parametrize(
    ("periods", "field", "other"),
    [
        # The later-starting of the two is named, by its position in the input.
        ([("mon", "08:00", "12:00"), ("mon", "11:30", "17:00")], "periods[1]", "08:00 to 12:00"),
        ([("mon", "11:30", "17:00"), ("mon", "08:00", "12:00")], "periods[0]", "08:00 to 12:00"),
        (
            [("tue", "09:00", "10:00"), ("thu", "08:00", "18:00"), ("thu", "12:00", "13:00")],
            "periods[2]",
            "08:00 to 18:00",
        ),
        # Same start: the one sorting later (the longer) is named.
        ([("fri", "09:00", "10:00"), ("fri", "09:00", "11:00")], "periods[1]", "09:00 to 10:00"),
    ],
)
def test_overlapping_periods_are_refused_naming_one_by_its_position(
    periods: list[tuple[str, str, str]], field: str, other: str
) -> None:
    error = _invalid(weekly_hours, periods)

    assert error.field == field
    assert "overlaps another" in error.reason
    assert other in error.reason


@pytest.mark.parametrize("weekday", ["monday", "", "8", "funday", None])
def test_unknown_weekdays_are_refused_naming_the_weekday(weekday: object) -> None:
    error = _invalid(weekly_hours, [("mon", "09:00", "10:00"), (weekday, "09:00", "10:00")])

    assert error.field == "periods[1].weekday"


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("9:00", "17:00", "periods[0].start"),
        ("09:00", "5pm", "periods[0].end"),
        ("09:60", "17:00", "periods[0].start"),
        ("24:00", "24:00", "periods[0].start"),  # 24:00 is only an end
        ("09:00", "24:01", "periods[0].end"),
        ("09:00", "25:00", "periods[0].end"),
        ("", "17:00", "periods[0].start"),
        ("09:00:00", "17:00", "periods[0].start"),
        (None, "17:00", "periods[0].start"),
        (930, "17:00", "periods[0].start"),
    ],
)
def test_bad_times_are_refused_naming_the_start_or_end(
    start: object, end: object, field: str
) -> None:
    error = _invalid(weekly_hours, [("mon", start, end)])

    assert error.field == field


@pytest.mark.parametrize(
    ("text", "minutes"), [("00:00", 0), ("08:30", 510), ("23:59", 1439), ("12:05", 725)]
)
def test_times_parse_to_minutes_after_midnight_and_format_back(text: str, minutes: int) -> None:
    assert parse_minutes(text, "t") == minutes
    assert format_minutes(minutes) == text


def test_24_00_parses_only_as_an_end() -> None:
    assert parse_minutes("24:00", "end", end=True) == 1440
    assert format_minutes(1440) == "24:00"
    assert _invalid(parse_minutes, "24:00", "start").field == "start"


def test_weekday_labels_are_lower_case_names() -> None:
    assert [day.label for day in Weekday] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert date(2025, 1, 12).weekday() == Weekday.SUN


# --- settings ---------------------------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = SchedulingSettings(ACME)

    assert (
        settings.slot_granularity_minutes,
        settings.buffer_minutes,
        settings.min_notice_minutes,
        settings.horizon_days,
        settings.hold_ttl_minutes,
        settings.daily_limit_per_technician,
    ) == (30, 0, 60, 14, 15, None)


BOUNDS = {
    "slot_granularity_minutes": (5, 240),
    "buffer_minutes": (0, 240),
    "min_notice_minutes": (0, 10_080),
    "horizon_days": (1, 365),
    "hold_ttl_minutes": (1, 60),
    "daily_limit_per_technician": (1, 100),
}


def test_the_published_ranges_are_the_documented_ones() -> None:
    assert SETTING_RANGES == BOUNDS


@pytest.mark.parametrize(("field", "bounds"), sorted(BOUNDS.items()))
def test_each_setting_accepts_its_bounds_and_refuses_just_outside(
    field: str, bounds: tuple[int, int]
) -> None:
    low, high = bounds
    settings = SchedulingSettings(ACME)

    assert getattr(change_settings(settings, **{field: low}), field) == low
    assert getattr(change_settings(settings, **{field: high}), field) == high
    for bad in (low - 1, high + 1):
        error = _invalid(change_settings, settings, **{field: bad})
        assert error.field == field
        assert error.reason == f"must be between {low} and {high}"


@pytest.mark.parametrize("field", sorted(BOUNDS))
@pytest.mark.parametrize("value", [True, False, 30.0, "30", None])
def test_settings_must_be_integers_and_bools_are_not(field: str, value: object) -> None:
    if value is None and field == "daily_limit_per_technician":
        # The daily limit alone may be None: no limit.
        limited = change_settings(SchedulingSettings(ACME, daily_limit_per_technician=4))
        assert change_settings(limited, **{field: None}).daily_limit_per_technician is None
        return
    error = _invalid(change_settings, SchedulingSettings(ACME), **{field: value})

    assert error.field == field
    assert error.reason == "must be an integer"


def test_a_change_touches_only_the_given_fields() -> None:
    settings = SchedulingSettings(ACME, buffer_minutes=15, horizon_days=30)

    changed = change_settings(settings, min_notice_minutes=0, daily_limit_per_technician=3)

    assert changed == SchedulingSettings(
        ACME, buffer_minutes=15, horizon_days=30, min_notice_minutes=0, daily_limit_per_technician=3
    )
    assert change_settings(settings) == settings


def test_an_unknown_setting_is_refused_naming_it() -> None:
    error = _invalid(change_settings, SchedulingSettings(ACME), tenant_id=DANA)
    assert (error.field, error.reason) == ("tenant_id", "is not a scheduling setting")

    error = _invalid(change_settings, SchedulingSettings(ACME), granularity=15)
    assert error.field == "granularity"


def test_the_first_bad_field_is_named() -> None:
    error = _invalid(change_settings, SchedulingSettings(ACME), buffer_minutes=-5, horizon_days=0)
    assert error.field == "buffer_minutes"


# --- technicians, closures, busy blocks -------------------------------------------------------


def test_a_new_technician_is_active_with_a_trimmed_name_and_no_restrictions() -> None:
    dana = new_technician(tenant_id=ACME, name="  Dana Whitfield ", technician_id=DANA)

    assert dana == Technician(DANA, ACME, "Dana Whitfield", True, None, None)
    assert dana.can_do(FLUSH)
    assert dana.can_do(REPIPE)


def test_a_technician_restricted_to_items_can_do_only_those() -> None:
    ruiz = new_technician(tenant_id=ACME, name="Luis Ruiz", item_ids=[REPIPE])

    assert ruiz.item_ids == frozenset({REPIPE})
    assert ruiz.can_do(REPIPE)
    assert not ruiz.can_do(FLUSH)
    assert not new_technician(tenant_id=ACME, name="Nobody", item_ids=[]).can_do(FLUSH)
    assert (
        new_technician(tenant_id=ACME, name="A").id != new_technician(tenant_id=ACME, name="A").id
    )


def test_an_inactive_technician_can_do_nothing() -> None:
    dana = Technician(DANA, ACME, "Dana", active=False)

    assert not dana.can_do(FLUSH)
    assert not Technician(DANA, ACME, "Dana", active=False, item_ids=frozenset({FLUSH})).can_do(
        FLUSH
    )


def test_renaming_trims_and_keeps_everything_else() -> None:
    hours = weekly_hours([("mon", "07:00", "15:00")])
    dana = Technician(DANA, ACME, "Dana", True, frozenset({FLUSH}), hours)

    assert dana.renamed(" Dana W. ") == Technician(
        DANA, ACME, "Dana W.", True, frozenset({FLUSH}), hours
    )


@pytest.mark.parametrize(
    ("name", "reason"),
    [("", "must not be empty"), (" \t", "must not be empty"), ("x" * 101, "longer than 100")],
)
def test_bad_technician_names_are_refused(name: str, reason: str) -> None:
    assert reason in _invalid(new_technician, tenant_id=ACME, name=name).reason
    assert _invalid(Technician(DANA, ACME, "Dana").renamed, name).field == "name"


def test_a_name_of_exactly_100_characters_is_fine() -> None:
    assert new_technician(tenant_id=ACME, name="x" * 100).name == "x" * 100


def test_a_closure_keeps_its_day_and_trimmed_reason() -> None:
    closure = new_closure(tenant_id=ACME, day=date(2025, 12, 25), reason="  Christmas ")

    assert (closure.tenant_id, closure.day, closure.reason) == (
        ACME,
        date(2025, 12, 25),
        "Christmas",
    )
    assert isinstance(closure, Closure)
    assert new_closure(tenant_id=ACME, day=date(2025, 7, 4), reason="x" * 200).reason == "x" * 200
    error = _invalid(new_closure, tenant_id=ACME, day=date(2025, 7, 4), reason="x" * 201)
    assert error.field == "reason"


def test_a_busy_block_keeps_its_times_and_is_manual() -> None:
    end = START + timedelta(hours=2)

    block = new_busy_block(tenant_id=ACME, technician_id=DANA, start=START, end=end)

    assert block == BusyBlock(block.id, ACME, DANA, START, end, "manual", None)


def test_a_busy_block_of_exactly_31_days_is_fine() -> None:
    end = START + timedelta(days=31)
    assert new_busy_block(tenant_id=ACME, technician_id=DANA, start=START, end=end).end == end


@pytest.mark.parametrize(
    ("start", "end", "field", "reason"),
    [
        (START.replace(tzinfo=None), START + timedelta(hours=1), "start", "needs a UTC offset"),
        (START, (START + timedelta(hours=1)).replace(tzinfo=None), "start", "needs a UTC offset"),
        (START, START, "end", "must be after start"),
        (START, START - timedelta(minutes=1), "end", "must be after start"),
        (START, START + timedelta(days=31, seconds=1), "end", "at most 31 days"),
    ],
)
def test_bad_busy_blocks_are_refused(
    start: datetime, end: datetime, field: str, reason: str
) -> None:
    error = _invalid(new_busy_block, tenant_id=ACME, technician_id=DANA, start=start, end=end)

    assert error.field == field
    assert reason in error.reason


# --- one booking's life -----------------------------------------------------------------------


def _hold(*, ttl_minutes: int = 15, buffer_minutes: int = 15) -> Booking:
    hold, _ = new_hold(
        tenant_id=ACME,
        technician_id=DANA,
        item_id=FLUSH,
        contact_phone=CALLER,
        start=START,
        duration=timedelta(minutes=90),
        buffer=timedelta(minutes=buffer_minutes),
        ttl=timedelta(minutes=ttl_minutes),
        now=NOW,
        hold_id=HOLD_ID,
    )
    return hold


def test_a_new_hold_claims_the_job_plus_its_buffer_until_it_expires() -> None:
    conversation = UUID("c0000000-0000-4000-8000-000000000001")
    hold, events = new_hold(
        tenant_id=ACME,
        technician_id=DANA,
        item_id=FLUSH,
        contact_phone=CALLER,
        start=START,
        duration=timedelta(minutes=90),
        buffer=timedelta(minutes=15),
        ttl=timedelta(minutes=15),
        now=NOW,
        conversation_id=conversation,
        hold_id=HOLD_ID,
    )

    assert hold == Booking(
        id=HOLD_ID,
        tenant_id=ACME,
        technician_id=DANA,
        item_id=FLUSH,
        contact_phone=CALLER,
        start=datetime(2025, 1, 7, 16, 0, tzinfo=UTC),
        end=datetime(2025, 1, 7, 17, 30, tzinfo=UTC),
        blocked_until=datetime(2025, 1, 7, 17, 45, tzinfo=UTC),
        status=BookingStatus.HELD,
        expires_at=datetime(2025, 1, 6, 15, 15, tzinfo=UTC),
        conversation_id=conversation,
        held_at=datetime(2025, 1, 6, 15, 0, tzinfo=UTC),
    )
    assert events == (
        AppointmentHeld(
            ACME,
            HOLD_ID,
            DANA,
            FLUSH,
            START,
            datetime(2025, 1, 7, 17, 30, tzinfo=UTC),
            datetime(2025, 1, 6, 15, 15, tzinfo=UTC),
        ),
    )
    assert hold.active


def test_a_new_hold_without_an_id_gets_a_fresh_one() -> None:
    common = {
        "tenant_id": ACME,
        "technician_id": DANA,
        "item_id": FLUSH,
        "contact_phone": CALLER,
        "start": START,
        "duration": timedelta(minutes=30),
        "buffer": timedelta(0),
        "ttl": timedelta(minutes=1),
        "now": NOW,
    }
    first, _ = new_hold(**common)  # type: ignore[arg-type]
    second, _ = new_hold(**common)  # type: ignore[arg-type]

    assert first.id != second.id
    assert first.blocked_until == first.end == START + timedelta(minutes=30)


def test_a_hold_is_live_until_the_instant_it_expires() -> None:
    hold = _hold()
    expiry = NOW + timedelta(minutes=15)

    assert hold.live(NOW)
    assert hold.live(expiry - timedelta(microseconds=1))
    assert not hold.live(expiry)
    assert not hold.live(expiry + timedelta(days=1))
    # Expired but not yet released: the row still claims its time in storage.
    assert hold.active


def test_booking_a_live_hold_makes_an_appointment_at_the_price_with_one_event() -> None:
    hold = _hold()

    booked, events = hold.book(
        price_cents=18_900, currency="USD", idempotency_key="k-1", now=NOW + timedelta(minutes=14)
    )

    assert booked == Booking(
        id=HOLD_ID,
        tenant_id=ACME,
        technician_id=DANA,
        item_id=FLUSH,
        contact_phone=CALLER,
        start=START,
        end=datetime(2025, 1, 7, 17, 30, tzinfo=UTC),
        blocked_until=datetime(2025, 1, 7, 17, 45, tzinfo=UTC),
        status=BookingStatus.BOOKED,
        expires_at=None,
        price_cents=18_900,
        currency="USD",
        idempotency_key="k-1",
        held_at=datetime(2025, 1, 6, 15, 0, tzinfo=UTC),
        booked_at=datetime(2025, 1, 6, 15, 14, tzinfo=UTC),
    )
    assert events == (
        AppointmentBooked(
            ACME,
            HOLD_ID,
            DANA,
            FLUSH,
            START,
            datetime(2025, 1, 7, 17, 30, tzinfo=UTC),
            18_900,
            "USD",
            CALLER,
        ),
    )
    # An appointment blocks its time for good.
    assert booked.live(NOW + timedelta(days=365))
    assert booked.active


def test_booking_an_expired_hold_is_gone() -> None:
    hold = _hold()

    with pytest.raises(HoldExpired) as caught:
        hold.book(
            price_cents=1, currency="USD", idempotency_key=None, now=NOW + timedelta(minutes=15)
        )

    assert isinstance(caught.value, Gone)
    assert str(HOLD_ID) in str(caught.value)


def test_booking_a_booked_hold_again_is_a_conflict() -> None:
    booked, _ = _hold().book(price_cents=18_900, currency="USD", idempotency_key=None, now=NOW)

    with pytest.raises(Conflict) as caught:
        booked.book(price_cents=18_900, currency="USD", idempotency_key=None, now=NOW)

    assert caught.value.field == "hold_id"


@pytest.mark.parametrize("status", [BookingStatus.RELEASED, BookingStatus.EXPIRED])
def test_booking_a_released_or_expired_hold_is_gone_even_before_its_time_limit(
    status: BookingStatus,
) -> None:
    hold = attrs.evolve(_hold(), status=status)

    with pytest.raises(HoldExpired):
        hold.book(price_cents=1, currency="USD", idempotency_key=None, now=NOW)
    assert not hold.live(NOW)
    assert not hold.active


def test_releasing_a_hold_frees_it_and_releasing_again_changes_nothing() -> None:
    hold = _hold()

    released = hold.release()

    assert released.status is BookingStatus.RELEASED
    assert not released.active
    assert not released.live(NOW)
    assert released.release() is released


def test_an_expired_hold_released_stays_expired() -> None:
    expired = attrs.evolve(_hold(), status=BookingStatus.EXPIRED)
    assert expired.release() is expired


def test_a_booked_hold_cannot_be_released() -> None:
    booked, _ = _hold().book(price_cents=1, currency="USD", idempotency_key=None, now=NOW)

    with pytest.raises(Conflict) as caught:
        booked.release()

    assert "cancel the appointment" in caught.value.reason


def test_canceling_an_appointment_frees_it_once() -> None:
    booked, _ = _hold().book(price_cents=1, currency="USD", idempotency_key=None, now=NOW)

    canceled, events = booked.cancel()

    assert canceled.status is BookingStatus.CANCELED
    assert not canceled.active
    assert not canceled.live(NOW)
    assert events == (
        AppointmentCanceled(ACME, HOLD_ID, DANA, START, datetime(2025, 1, 7, 17, 30, tzinfo=UTC)),
    )
    assert canceled.cancel() == (canceled, ())


@pytest.mark.parametrize("status", [BookingStatus.HELD, BookingStatus.RELEASED])
def test_a_hold_is_not_an_appointment_to_cancel(status: BookingStatus) -> None:
    hold = attrs.evolve(_hold(), status=status)

    with pytest.raises(Conflict) as caught:
        hold.cancel()

    assert caught.value.reason == f"a {status.value} hold is not an appointment"


def test_moving_an_appointment_emits_the_new_and_previous_times() -> None:
    booked, _ = _hold().book(price_cents=1, currency="USD", idempotency_key=None, now=NOW)
    later = START + timedelta(days=1, hours=2)

    moved, events = booked.moved(
        technician_id=RUIZ, start=later, duration=timedelta(minutes=90), buffer=timedelta(0)
    )

    assert (moved.technician_id, moved.start, moved.end, moved.blocked_until) == (
        RUIZ,
        datetime(2025, 1, 8, 18, 0, tzinfo=UTC),
        datetime(2025, 1, 8, 19, 30, tzinfo=UTC),
        datetime(2025, 1, 8, 19, 30, tzinfo=UTC),
    )
    assert (moved.id, moved.status, moved.price_cents) == (HOLD_ID, BookingStatus.BOOKED, 1)
    assert events == (
        AppointmentRescheduled(
            ACME,
            HOLD_ID,
            RUIZ,
            datetime(2025, 1, 8, 18, 0, tzinfo=UTC),
            datetime(2025, 1, 8, 19, 30, tzinfo=UTC),
            DANA,
            START,
            datetime(2025, 1, 7, 17, 30, tzinfo=UTC),
        ),
    )


def test_moving_an_appointment_to_where_it_is_emits_nothing() -> None:
    booked, _ = _hold().book(price_cents=1, currency="USD", idempotency_key=None, now=NOW)

    moved, events = booked.moved(
        technician_id=DANA,
        start=START,
        duration=timedelta(minutes=90),
        buffer=timedelta(minutes=15),
    )

    assert (moved, events) == (booked, ())


def test_a_new_buffer_alone_is_a_move() -> None:
    booked, _ = _hold().book(price_cents=1, currency="USD", idempotency_key=None, now=NOW)

    moved, events = booked.moved(
        technician_id=DANA, start=START, duration=timedelta(minutes=90), buffer=timedelta(0)
    )

    assert moved.blocked_until == moved.end
    assert len(events) == 1


@pytest.mark.parametrize("status", [BookingStatus.HELD, BookingStatus.CANCELED])
def test_only_appointments_move(status: BookingStatus) -> None:
    booking = attrs.evolve(_hold(), status=status)

    with pytest.raises(Conflict):
        booking.moved(
            technician_id=DANA, start=START, duration=timedelta(hours=1), buffer=timedelta(0)
        )


def test_scheduling_errors_carry_their_http_meaning() -> None:
    taken = SlotTaken()
    assert isinstance(taken, Conflict)
    assert (taken.field, taken.reason) == ("start", "this time is taken")

    refused = NotBookable("is in the past")
    assert isinstance(refused, InvalidInput)
    assert (refused.field, refused.reason) == ("start", "is in the past")
    assert NotBookable("no", field="technician_id").field == "technician_id"

    expired = HoldExpired(HOLD_ID)
    assert isinstance(expired, Gone)
    assert str(expired) == f"hold {HOLD_ID} expired or was released"
