"""Scheduling use cases on the in-memory fakes: setup, availability, holds, booking with an
idempotency key, release, cancel, reschedule and listing; roles; the events they leave.

The store's clock starts on Monday 2025-01-06 at 09:00 in Chicago (15:00 UTC) and moves only
with `store.advance`. Chicago is on CST (UTC-6) all January: UTC times are written by hand.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs
import pytest

from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_domain.catalog.use_cases import NewItem, create_item, update_item
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user, deactivate_user
from nmc_domain.scheduling.availability import Calendar, Slot
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.errors import HoldExpired, NotBookable, SlotTaken
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentHeld,
    AppointmentRescheduled,
)
from nmc_domain.scheduling.model import Period, Technician, Weekday, WeeklyHours
from nmc_domain.scheduling.reservations import (
    HoldRequest,
    available_slots,
    book,
    book_hold,
    cancel_appointment,
    hold_slot,
    list_appointments,
    place_hold,
    release,
    release_hold,
    reschedule_appointment,
    search,
    technicians_for,
)
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.scheduling.setup import (
    TechnicianChanges,
    add_busy_block,
    add_closure,
    add_technician,
    change_technician,
    delete_busy_block,
    delete_closure,
    get_business_hours,
    get_settings,
    list_busy_blocks,
    list_closures,
    list_technicians,
    set_business_hours,
    update_settings,
)
from nmc_domain.shared.errors import (
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TenantNotFound,
    Unauthenticated,
)
from nmc_domain.tenancy.model import Tenant
from tests.support.tenants import onboard

OWNER_EMAIL = "owner@acme-plumbing.example"
TECH_EMAIL = "dana@acme-plumbing.example"
CALLER = "+15555550123"
OTHER_CALLER = "+15555550199"
CST = timedelta(hours=-6)
SPLIT_SHIFT = [
    (day, start, end)
    for day in ("mon", "tue", "wed", "thu", "fri")
    for start, end in (("08:00", "12:00"), ("13:00", "17:00"))
]


def jan(day: int, clock: str) -> datetime:
    """A wall time in Chicago in January 2025 (CST), as UTC."""
    hours, minutes = map(int, clock.split(":"))
    return datetime(2025, 1, day, hours, minutes, tzinfo=UTC) - CST


def local(slot: Slot | Booking) -> str:
    moment = slot.start + CST
    return f"{moment.day:02d} {moment:%H:%M}"


@attrs.define
class Shop:
    """ACME-PLUMBING in Chicago: a split shift on weekdays, a 90-minute flush, Dana (TECH user
    and technician) and Ruiz (technician only)."""

    store: InMemoryStore
    tenant: Tenant
    owner: Principal
    tech: Principal
    flush: UUID
    repipe: UUID
    dana: Technician
    ruiz: Technician

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def request(self, start: datetime, **changes: Any) -> HoldRequest:
        fields: dict[str, Any] = {
            "item_id": self.flush,
            "technician_id": self.dana.id,
            "start": start,
            "contact_phone": CALLER,
        }
        return HoldRequest(**(fields | changes))

    async def hold(self, start: datetime, who: Principal | None = None, **changes: Any) -> Booking:
        held = await hold_slot(self.uow(), who or self.owner, self.request(start, **changes))
        assert (held.timezone, held.created) == ("America/Chicago", True)
        return held.booking

    async def booked(self, start: datetime, key: str | None = None, **changes: Any) -> Booking:
        hold = await self.hold(start, **changes)
        booked = await book_hold(self.uow(), self.owner, hold.id, key)
        assert (booked.timezone, booked.created) == ("America/Chicago", True)
        return booked.booking

    async def slots(self, start: datetime, end: datetime, **options: Any) -> list[Slot]:
        options.setdefault("limit", 100)
        found = await available_slots(
            self.uow(), self.owner, item_id=self.flush, start=start, end=end, **options
        )
        assert found.timezone == "America/Chicago"
        return list(found.slots)

    def stored(self, booking_id: UUID) -> Booking:
        found: Booking = self.store.bookings[self.tenant.id, booking_id]
        return found

    def events(self) -> list[object]:
        kinds = (AppointmentHeld, AppointmentBooked, AppointmentCanceled, AppointmentRescheduled)
        return [event for event in self.store.outbox_events() if isinstance(event, kinds)]


@pytest.fixture
async def shop() -> Shop:
    store = InMemoryStore()
    new_uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    tenant, _ = await onboard(new_uow)
    owner = Principal(OWNER_EMAIL, tenant.id)
    await add_user(new_uow(), owner, email=TECH_EMAIL, role="TECH")
    flush = await create_item(
        new_uow(), owner, NewItem("Water Heater Flush", price_cents=18_900, duration_minutes=90)
    )
    repipe = await create_item(
        new_uow(), owner, NewItem("Whole House Repipe", price_cents=450_000, duration_minutes=240)
    )
    await set_business_hours(new_uow(), owner, SPLIT_SHIFT)
    dana = await add_technician(new_uow(), owner, name="Dana Whitfield")
    ruiz = await add_technician(new_uow(), owner, name="Luis Ruiz", item_ids=[repipe.id])
    return Shop(
        store,
        tenant,
        owner,
        Principal(TECH_EMAIL, tenant.id),
        flush.id,
        repipe.id,
        dana,
        ruiz,
    )


# --- availability -----------------------------------------------------------------------------


async def test_availability_is_the_split_shift_after_the_notice(shop: Shop) -> None:
    # Now is Monday 09:00; an hour's notice: nothing before 10:00.
    found = await shop.slots(jan(6, "00:00"), jan(7, "00:00"))

    assert [local(slot) for slot in found] == [
        "06 10:00",
        "06 10:30",
        "06 13:00",
        "06 13:30",
        "06 14:00",
        "06 14:30",
        "06 15:00",
        "06 15:30",
    ]
    assert {slot.technician_id for slot in found} == {shop.dana.id}
    assert found[0] == Slot(shop.dana.id, jan(6, "10:00"), jan(6, "11:30"))


async def test_a_long_window_is_read_until_it_yields_enough(shop: Shop) -> None:
    # Monday 6 (8 after the notice) + Tue-Fri (4 x 12) + Mon 13 to Wed 15 (3 x 12).
    found = await shop.slots(jan(6, "00:00"), jan(16, "00:00"))
    assert len(found) == 8 + 48 + 36
    assert local(found[-1]) == "15 15:30"

    first_twenty = await shop.slots(jan(6, "00:00"), jan(16, "00:00"), limit=20)
    assert first_twenty == found[:20]
    assert local(first_twenty[-1]) == "07 15:30"


async def test_availability_stops_at_the_horizon(shop: Shop) -> None:
    await update_settings(shop.uow(), shop.owner, horizon_days=7)

    found = await shop.slots(jan(6, "00:00"), jan(6, "00:00") + timedelta(days=60))

    # Up to Monday 13 at 09:00 (now + 7 days): 8 + 48 + 08:00, 08:30 and 09:00.
    assert len(found) == 8 + 48 + 3
    assert [local(slot) for slot in found[-3:]] == ["13 08:00", "13 08:30", "13 09:00"]


async def test_availability_spreads_by_day_and_filters_by_technician(shop: Shop) -> None:
    found = await shop.slots(jan(6, "00:00"), jan(11, "00:00"), spread_day=True)
    assert [local(slot) for slot in found] == [
        "06 10:00",
        "07 08:00",
        "08 08:00",
        "09 08:00",
        "10 08:00",
    ]

    # Ruiz does not do flushes.
    assert await shop.slots(jan(6, "00:00"), jan(11, "00:00"), technician_id=shop.ruiz.id) == []


@pytest.mark.parametrize(
    ("start", "end", "limit", "field"),
    [
        (jan(7, "00:00").replace(tzinfo=None), jan(8, "00:00"), 10, "from"),
        (jan(7, "00:00"), jan(8, "00:00").replace(tzinfo=None), 10, "from"),
        (jan(7, "00:00"), jan(7, "00:00"), 10, "to"),
        (jan(7, "00:00"), jan(6, "00:00"), 10, "to"),
        (jan(7, "00:00"), jan(7, "00:00") + timedelta(days=62, seconds=1), 10, "to"),
        (jan(7, "00:00"), jan(8, "00:00"), 0, "limit"),
        (jan(7, "00:00"), jan(8, "00:00"), 101, "limit"),
    ],
)
async def test_availability_refuses_bad_windows_and_limits(
    shop: Shop, start: datetime, end: datetime, limit: int, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await available_slots(
            shop.uow(), shop.owner, item_id=shop.flush, start=start, end=end, limit=limit
        )
    assert caught.value.field == field


async def test_availability_of_an_unknown_or_inactive_item(shop: Shop) -> None:
    with pytest.raises(NotFound):
        await available_slots(
            shop.uow(),
            shop.owner,
            item_id=uuid.uuid4(),
            start=jan(7, "00:00"),
            end=jan(8, "00:00"),
            limit=5,
        )
    await update_item(shop.uow(), shop.owner, shop.flush, {"active": False})
    with pytest.raises(Gone):
        await shop.slots(jan(7, "00:00"), jan(8, "00:00"))


async def test_availability_of_a_tenant_that_is_gone(shop: Shop) -> None:
    del shop.store.tenants[shop.tenant.id]

    with pytest.raises(TenantNotFound):
        await shop.slots(jan(7, "00:00"), jan(8, "00:00"))


# --- hold and book ----------------------------------------------------------------------------


async def test_a_hold_then_a_booking_with_a_key_happens_once(shop: Shop) -> None:
    hold = await shop.hold(jan(7, "10:00"))
    assert (hold.status, hold.expires_at) == (BookingStatus.HELD, jan(6, "09:15"))
    assert (hold.start, hold.end, hold.blocked_until) == (
        jan(7, "10:00"),
        jan(7, "11:30"),
        jan(7, "11:30"),
    )
    shop.store.advance(14 * 60)

    first = await book_hold(shop.uow(), shop.owner, hold.id, "key-1")
    second = await book_hold(shop.uow(), shop.owner, hold.id, "key-1")

    assert first.created is True
    assert second.created is False
    appointment = first.booking
    assert second.booking == appointment == shop.stored(hold.id)
    assert appointment == attrs.evolve(
        hold,
        status=BookingStatus.BOOKED,
        expires_at=None,
        price_cents=18_900,
        currency="USD",
        idempotency_key="key-1",
        booked_at=jan(6, "09:14"),
    )
    assert shop.events() == [
        AppointmentHeld(
            shop.tenant.id,
            hold.id,
            shop.dana.id,
            shop.flush,
            jan(7, "10:00"),
            jan(7, "11:30"),
            jan(6, "09:15"),
        ),
        AppointmentBooked(
            shop.tenant.id,
            hold.id,
            shop.dana.id,
            shop.flush,
            jan(7, "10:00"),
            jan(7, "11:30"),
            18_900,
            "USD",
            CALLER,
        ),
    ]


async def test_the_price_is_the_one_at_booking_time(shop: Shop) -> None:
    hold = await shop.hold(jan(7, "10:00"))
    await update_item(shop.uow(), shop.owner, shop.flush, {"price_cents": 20_000})

    appointment = (await book_hold(shop.uow(), shop.owner, hold.id, None)).booking
    await update_item(shop.uow(), shop.owner, shop.flush, {"price_cents": 25_000})

    assert appointment.price_cents == 20_000
    assert shop.stored(hold.id).price_cents == 20_000


async def test_a_booked_hold_cannot_be_booked_again_without_its_key(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "10:00"), "key-1")

    for key in (None, "key-2"):
        with pytest.raises(Conflict) as caught:
            await book_hold(shop.uow(), shop.owner, appointment.id, key)
        assert caught.value.field == "hold_id"
    assert len([e for e in shop.events() if isinstance(e, AppointmentBooked)]) == 1


async def test_a_key_used_for_another_hold_is_a_conflict(shop: Shop) -> None:
    await shop.booked(jan(7, "10:00"), "key-1")
    other = await shop.hold(jan(8, "10:00"))

    with pytest.raises(Conflict) as caught:
        await book_hold(shop.uow(), shop.owner, other.id, "key-1")

    assert caught.value.field == "Idempotency-Key"
    assert shop.stored(other.id).status is BookingStatus.HELD


async def test_an_expired_hold_cannot_be_booked_and_its_time_is_free(shop: Shop) -> None:
    hold = await shop.hold(jan(7, "10:00"))
    shop.store.advance(15 * 60)  # exactly the time limit

    with pytest.raises(HoldExpired):
        await book_hold(shop.uow(), shop.owner, hold.id, "key-1")
    assert shop.stored(hold.id).status is BookingStatus.HELD  # released lazily
    assert jan(7, "10:00") in [
        slot.start for slot in await shop.slots(jan(7, "00:00"), jan(8, "00:00"))
    ]

    other = await shop.hold(jan(7, "10:30"), contact_phone=OTHER_CALLER)

    assert shop.stored(other.id).status is BookingStatus.HELD
    assert shop.stored(hold.id).status is BookingStatus.EXPIRED
    with pytest.raises(HoldExpired):
        await book_hold(shop.uow(), shop.owner, hold.id, None)


async def test_a_live_hold_takes_its_time(shop: Shop) -> None:
    await shop.hold(jan(7, "10:00"))

    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "10:30"), contact_phone=OTHER_CALLER)
    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "08:31"), contact_phone=OTHER_CALLER)
    # Back to back is fine (no buffer by default).
    await shop.hold(jan(7, "08:30"), contact_phone=OTHER_CALLER)
    starts = [local(slot) for slot in await shop.slots(jan(7, "00:00"), jan(8, "00:00"))]
    assert starts[:2] == ["07 13:00", "07 13:30"]


async def test_the_buffer_is_kept_after_each_job(shop: Shop) -> None:
    await update_settings(shop.uow(), shop.owner, buffer_minutes=15)
    hold = await shop.hold(jan(7, "08:00"))
    assert hold.blocked_until == jan(7, "09:45")

    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "09:30"), contact_phone=OTHER_CALLER)
    await shop.hold(jan(7, "09:45"), contact_phone=OTHER_CALLER)


async def test_the_daily_limit_refuses_a_second_job(shop: Shop) -> None:
    await update_settings(shop.uow(), shop.owner, daily_limit_per_technician=1)
    await shop.booked(jan(7, "08:00"))

    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "15:00"))
    await shop.hold(jan(8, "15:00"))


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (jan(6, "08:00"), "is in the past"),
        (jan(6, "09:30"), "is inside the minimum notice of 60 minutes"),
        (jan(20, "15:01"), "is beyond the booking horizon of 14 days"),
        (jan(7, "11:00"), "is outside business hours (the whole job must fit in one period)"),
        (jan(11, "10:00"), "is outside business hours (the whole job must fit in one period)"),
    ],
)
async def test_a_time_that_can_never_be_booked_is_refused_with_its_reason(
    shop: Shop, start: datetime, reason: str
) -> None:
    with pytest.raises(NotBookable) as caught:
        await shop.hold(start)

    assert (caught.value.field, caught.value.reason) == ("start", reason)
    assert shop.events() == []


async def test_a_hold_needs_a_technician_who_does_the_item(shop: Shop) -> None:
    with pytest.raises(NotBookable) as caught:
        await shop.hold(jan(7, "10:00"), technician_id=shop.ruiz.id)
    assert (caught.value.field, caught.value.reason) == (
        "technician_id",
        "this technician does not do this item",
    )

    await change_technician(shop.uow(), shop.owner, shop.dana.id, TechnicianChanges(active=False))
    with pytest.raises(NotBookable) as caught:
        await shop.hold(jan(7, "10:00"))
    assert caught.value.reason == "this technician is inactive"

    with pytest.raises(NotFound):
        await shop.hold(jan(7, "10:00"), technician_id=uuid.uuid4())


async def test_a_busy_block_takes_its_time(shop: Shop) -> None:
    await add_busy_block(
        shop.uow(),
        shop.owner,
        technician_id=shop.dana.id,
        start=jan(7, "09:00"),
        end=jan(7, "10:00"),
    )

    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "08:00"))
    await shop.hold(jan(7, "10:00"))


# --- release and cancel -----------------------------------------------------------------------


async def test_releasing_a_hold_frees_its_time(shop: Shop) -> None:
    hold = await shop.hold(jan(7, "10:00"))

    released = await release_hold(shop.uow(), shop.owner, hold.id)
    again = await release_hold(shop.uow(), shop.owner, hold.id)

    assert released.status is again.status is BookingStatus.RELEASED
    assert shop.stored(hold.id).status is BookingStatus.RELEASED
    await shop.hold(jan(7, "10:00"), contact_phone=OTHER_CALLER)
    with pytest.raises(HoldExpired):
        await book_hold(shop.uow(), shop.owner, hold.id, None)


async def test_a_booked_hold_cannot_be_released(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "10:00"))

    with pytest.raises(Conflict):
        await release_hold(shop.uow(), shop.owner, appointment.id)
    assert shop.stored(appointment.id).status is BookingStatus.BOOKED
    with pytest.raises(NotFound):
        await release_hold(shop.uow(), shop.owner, uuid.uuid4())


async def test_canceling_frees_the_time_once(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "10:00"))

    first = await cancel_appointment(shop.uow(), shop.owner, appointment.id)
    again = await cancel_appointment(shop.uow(), shop.owner, appointment.id)

    assert (first.created, again.created) == (True, False)
    canceled = first.booking
    assert canceled == again.booking == shop.stored(appointment.id)
    assert canceled.status is BookingStatus.CANCELED
    canceled_events = [e for e in shop.events() if isinstance(e, AppointmentCanceled)]
    assert canceled_events == [
        AppointmentCanceled(
            shop.tenant.id, appointment.id, shop.dana.id, jan(7, "10:00"), jan(7, "11:30")
        )
    ]
    await shop.hold(jan(7, "10:00"), contact_phone=OTHER_CALLER)


async def test_only_appointments_are_canceled(shop: Shop) -> None:
    hold = await shop.hold(jan(7, "10:00"))
    with pytest.raises(NotFound):
        await cancel_appointment(shop.uow(), shop.owner, hold.id)
    await release_hold(shop.uow(), shop.owner, hold.id)
    with pytest.raises(Conflict):
        await cancel_appointment(shop.uow(), shop.owner, hold.id)
    with pytest.raises(NotFound):
        await cancel_appointment(shop.uow(), shop.owner, uuid.uuid4())


# --- reschedule -------------------------------------------------------------------------------


async def test_rescheduling_onto_a_taken_time_changes_nothing(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "08:00"))
    await shop.booked(jan(7, "13:00"), contact_phone=OTHER_CALLER)
    events = shop.events()

    with pytest.raises(SlotTaken):
        await reschedule_appointment(
            shop.uow(),
            shop.owner,
            appointment.id,
            technician_id=shop.dana.id,
            start=jan(7, "14:00"),
        )

    assert shop.stored(appointment.id) == appointment
    assert shop.events() == events


async def test_rescheduling_may_overlap_its_own_old_time(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "08:00"))

    moved = (
        await reschedule_appointment(
            shop.uow(),
            shop.owner,
            appointment.id,
            technician_id=shop.dana.id,
            start=jan(7, "08:30"),
        )
    ).booking

    assert (moved.start, moved.end, moved.blocked_until) == (
        jan(7, "08:30"),
        jan(7, "10:00"),
        jan(7, "10:00"),
    )
    assert shop.stored(appointment.id) == moved
    assert shop.events()[-1] == AppointmentRescheduled(
        shop.tenant.id,
        appointment.id,
        shop.dana.id,
        jan(7, "08:30"),
        jan(7, "10:00"),
        shop.dana.id,
        jan(7, "08:00"),
        jan(7, "09:30"),
    )
    # The old time is free, the new one taken.
    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "09:30"), contact_phone=OTHER_CALLER)
    await shop.hold(jan(7, "13:00"), contact_phone=OTHER_CALLER)


async def test_rescheduling_to_the_same_place_emits_nothing(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "08:00"))
    events = shop.events()

    moved = (
        await reschedule_appointment(
            shop.uow(),
            shop.owner,
            appointment.id,
            technician_id=shop.dana.id,
            start=jan(7, "08:00"),
        )
    ).booking

    assert moved == appointment
    assert shop.events() == events


async def test_rescheduling_to_another_technician(shop: Shop) -> None:
    await change_technician(
        shop.uow(),
        shop.owner,
        shop.ruiz.id,
        TechnicianChanges(set_item_ids=True, item_ids=None),
    )
    appointment = await shop.booked(jan(7, "08:00"))

    moved = (
        await reschedule_appointment(
            shop.uow(),
            shop.owner,
            appointment.id,
            technician_id=shop.ruiz.id,
            start=jan(7, "08:00"),
        )
    ).booking

    assert moved.technician_id == shop.ruiz.id
    last = shop.events()[-1]
    assert isinstance(last, AppointmentRescheduled)
    assert (last.technician_id, last.previous_technician_id) == (shop.ruiz.id, shop.dana.id)
    await shop.hold(jan(7, "08:00"), contact_phone=OTHER_CALLER)  # Dana is free again


async def test_rescheduling_refusals(shop: Shop) -> None:
    appointment = await shop.booked(jan(7, "08:00"))
    hold = await shop.hold(jan(8, "08:00"))

    async def move(booking_id: UUID, technician_id: UUID, start: datetime) -> Booking:
        return (
            await reschedule_appointment(
                shop.uow(), shop.owner, booking_id, technician_id=technician_id, start=start
            )
        ).booking

    with pytest.raises(Conflict):
        await move(hold.id, shop.dana.id, jan(9, "08:00"))
    with pytest.raises(NotFound):
        await move(uuid.uuid4(), shop.dana.id, jan(9, "08:00"))
    with pytest.raises(NotFound):
        await move(appointment.id, uuid.uuid4(), jan(9, "08:00"))
    with pytest.raises(NotBookable) as caught:
        await move(appointment.id, shop.ruiz.id, jan(9, "08:00"))
    assert caught.value.field == "technician_id"
    with pytest.raises(NotBookable) as caught:
        await move(appointment.id, shop.dana.id, jan(11, "08:00"))  # a Saturday
    assert caught.value.field == "start"
    assert shop.stored(appointment.id) == appointment


async def test_the_daily_limit_does_not_count_the_appointment_being_moved(shop: Shop) -> None:
    await update_settings(shop.uow(), shop.owner, daily_limit_per_technician=1)
    appointment = await shop.booked(jan(7, "08:00"))

    moved = (
        await reschedule_appointment(
            shop.uow(),
            shop.owner,
            appointment.id,
            technician_id=shop.dana.id,
            start=jan(7, "15:00"),
        )
    ).booking

    assert moved.start == jan(7, "15:00")


# --- listing appointments ---------------------------------------------------------------------


async def test_appointments_are_listed_by_start_in_pages(shop: Shop) -> None:
    await change_technician(
        shop.uow(), shop.owner, shop.ruiz.id, TechnicianChanges(set_item_ids=True, item_ids=None)
    )
    first = await shop.booked(jan(7, "08:00"))
    second = await shop.booked(jan(7, "08:00"), technician_id=shop.ruiz.id)
    third = await shop.booked(jan(8, "13:00"))
    await cancel_appointment(shop.uow(), shop.owner, third.id)
    await shop.hold(jan(9, "13:00"))  # holds are not appointments
    same_start = sorted([first, second], key=lambda b: str(b.id))

    async def listing(**options: Any) -> tuple[str, Any]:
        fields: dict[str, Any] = {
            "start": jan(6, "00:00"),
            "end": jan(13, "00:00"),
            "technician_id": None,
            "after": None,
            "limit": 50,
        }
        return await list_appointments(shop.uow(), shop.owner, **(fields | options))

    zone, page = await listing()
    assert zone == "America/Chicago"
    assert [b.id for b in page.items] == [*(b.id for b in same_start), third.id]
    assert page.items[2].status is BookingStatus.CANCELED
    assert page.next_after is None

    _, one = await listing(limit=1)
    assert [b.id for b in one.items] == [same_start[0].id]
    assert one.next_after == (jan(7, "08:00").isoformat(), same_start[0].id)
    _, rest = await listing(limit=1, after=one.next_after)
    assert [b.id for b in rest.items] == [same_start[1].id]

    _, ruiz_only = await listing(technician_id=shop.ruiz.id)
    assert [b.id for b in ruiz_only.items] == [second.id]
    _, later = await listing(start=jan(8, "00:00"))
    assert [b.id for b in later.items] == [third.id]

    with pytest.raises(InvalidInput) as caught:
        await listing(end=jan(6, "00:00"))
    assert caught.value.field == "to"
    with pytest.raises(InvalidInput) as caught:
        await listing(limit=0)
    assert caught.value.field == "limit"


# --- roles ------------------------------------------------------------------------------------


async def test_a_tech_can_search_hold_book_release_cancel_and_reschedule(shop: Shop) -> None:
    found = await available_slots(
        shop.uow(),
        shop.tech,
        item_id=shop.flush,
        start=jan(7, "00:00"),
        end=jan(8, "00:00"),
        limit=1,
    )
    assert [local(slot) for slot in found.slots] == ["07 08:00"]
    hold = await shop.hold(jan(7, "08:00"), who=shop.tech)
    booked = await book_hold(shop.uow(), shop.tech, hold.id, "tech-key")
    assert booked.created
    appointment = booked.booking
    moved = (
        await reschedule_appointment(
            shop.uow(), shop.tech, appointment.id, technician_id=shop.dana.id, start=jan(7, "10:00")
        )
    ).booking
    assert moved.start == jan(7, "10:00")
    canceled = await cancel_appointment(shop.uow(), shop.tech, hold.id)
    assert canceled.booking.status is BookingStatus.CANCELED
    other = await shop.hold(jan(8, "08:00"), who=shop.tech)
    assert (await release_hold(shop.uow(), shop.tech, other.id)).status is BookingStatus.RELEASED
    assert (await get_settings(shop.uow(), shop.tech)) == SchedulingSettings(shop.tenant.id)
    assert (await get_business_hours(shop.uow(), shop.tech)).on(Weekday.MON)
    assert len((await list_technicians(shop.uow(), shop.tech, None, 10)).items) == 2


SETUP_CALLS = {
    "set hours": lambda shop, uow: set_business_hours(uow, shop.tech, []),
    "add technician": lambda shop, uow: add_technician(uow, shop.tech, name="Sam"),
    "change technician": lambda shop, uow: change_technician(
        uow, shop.tech, shop.dana.id, TechnicianChanges(name="Sam")
    ),
    "update settings": lambda shop, uow: update_settings(uow, shop.tech, buffer_minutes=5),
    "add closure": lambda shop, uow: add_closure(uow, shop.tech, day=date(2025, 1, 8), reason="x"),
    "delete closure": lambda shop, uow: delete_closure(uow, shop.tech, uuid.uuid4()),
    "add busy block": lambda shop, uow: add_busy_block(
        uow, shop.tech, technician_id=shop.dana.id, start=jan(7, "08:00"), end=jan(7, "09:00")
    ),
    "delete busy block": lambda shop, uow: delete_busy_block(uow, shop.tech, uuid.uuid4()),
}


@pytest.mark.parametrize("call", sorted(SETUP_CALLS))
async def test_a_tech_cannot_change_the_setup(shop: Shop, call: str) -> None:
    before = {name: dict(table) for name, table in shop.store.tables.items()}

    with pytest.raises(PermissionDenied):
        await SETUP_CALLS[call](shop, shop.uow())

    assert {name: dict(table) for name, table in shop.store.tables.items()} == before


async def test_a_deactivated_user_or_a_stranger_gets_nothing(shop: Shop) -> None:
    stranger = Principal("nobody@example.com", shop.tenant.id)
    with pytest.raises(Unauthenticated):
        await shop.hold(jan(7, "08:00"), who=stranger)
    dana_user = next(user for user in shop.store.users.values() if user.email == TECH_EMAIL)
    await deactivate_user(shop.uow(), shop.owner, dana_user.id)
    with pytest.raises(PermissionDenied):
        await shop.hold(jan(7, "08:00"), who=shop.tech)


# --- the building blocks the conversation uses (tenant id, caller's own unit of work) ----------


async def test_place_book_and_release_in_the_callers_unit_of_work(shop: Shop) -> None:
    async with shop.uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        hold = await place_hold(uow, shop.tenant, shop.request(jan(7, "08:00")))
        booked, created = await book(uow, shop.tenant.id, hold.id, None)
        # Not committed: nothing is stored yet.
        assert (shop.tenant.id, hold.id) not in shop.store.bookings
        await uow.commit()
    assert created
    assert shop.stored(hold.id) == booked

    async with shop.uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        other = await place_hold(uow, shop.tenant, shop.request(jan(8, "08:00")))
        released = await release(uow, shop.tenant.id, other.id)
        assert released.status is BookingStatus.RELEASED
        # Rolled back (no commit): neither the hold nor its release was kept.
    assert (shop.tenant.id, other.id) not in shop.store.bookings


async def test_technicians_for_an_item_are_the_active_ones_who_do_it(shop: Shop) -> None:
    cal = Calendar(
        timezone="America/Chicago",
        settings=SchedulingSettings(shop.tenant.id),
        hours=WeeklyHours(),
        technicians=(shop.dana, shop.ruiz, attrs.evolve(shop.dana, id=uuid.uuid4(), active=False)),
        closures=frozenset(),
        busy=(),
        bookings=(),
        now=shop.store.now,
    )

    assert technicians_for(cal, shop.flush) == [shop.dana]
    assert technicians_for(cal, shop.repipe) == [shop.dana, shop.ruiz]


# --- setup ------------------------------------------------------------------------------------


async def test_technicians_are_listed_by_name_in_pages(shop: Shop) -> None:
    sam = await add_technician(shop.uow(), shop.owner, name="Aaron Sams")

    page = await list_technicians(shop.uow(), shop.owner, None, 2)
    assert [t.name for t in page.items] == ["Aaron Sams", "Dana Whitfield"]
    assert page.next_after == ("Dana Whitfield", shop.dana.id)
    rest = await list_technicians(shop.uow(), shop.owner, page.next_after, 2)
    assert [t.id for t in rest.items] == [shop.ruiz.id]
    assert rest.next_after is None
    assert sam.item_ids is None
    with pytest.raises(InvalidInput):
        await list_technicians(shop.uow(), shop.owner, None, 0)


async def test_a_technician_with_an_unknown_item_is_refused(shop: Shop) -> None:
    with pytest.raises(InvalidInput) as caught:
        await add_technician(
            shop.uow(), shop.owner, name="Sam", item_ids=[shop.flush, uuid.uuid4()]
        )
    assert caught.value.field == "item_ids[1]"
    assert len((await list_technicians(shop.uow(), shop.owner, None, 10)).items) == 2

    with pytest.raises(InvalidInput) as caught:
        await change_technician(
            shop.uow(),
            shop.owner,
            shop.dana.id,
            TechnicianChanges(set_item_ids=True, item_ids=(uuid.uuid4(),)),
        )
    assert caught.value.field == "item_ids[0]"


async def test_changing_a_technician_touches_only_what_is_given(shop: Shop) -> None:
    changed = await change_technician(
        shop.uow(),
        shop.owner,
        shop.ruiz.id,
        TechnicianChanges(
            name=" Luis R. ",
            set_hours=True,
            hours=(("sat", "09:00", "13:00"),),
        ),
    )

    assert changed == attrs.evolve(
        shop.ruiz,
        name="Luis R.",
        hours=WeeklyHours((Period(Weekday.SAT, 540, 780),)),
    )
    assert shop.store.technicians[shop.tenant.id, shop.ruiz.id] == changed

    back = await change_technician(
        shop.uow(),
        shop.owner,
        shop.ruiz.id,
        TechnicianChanges(
            set_hours=True, hours=None, set_item_ids=True, item_ids=None, active=False
        ),
    )
    assert (back.hours, back.item_ids, back.active) == (None, None, False)

    same = await change_technician(shop.uow(), shop.owner, shop.ruiz.id, TechnicianChanges())
    assert same == back
    with pytest.raises(NotFound):
        await change_technician(shop.uow(), shop.owner, uuid.uuid4(), TechnicianChanges(name="X"))
    with pytest.raises(InvalidInput) as caught:
        await change_technician(
            shop.uow(),
            shop.owner,
            shop.ruiz.id,
            TechnicianChanges(set_hours=True, hours=(("sat", "13:00", "09:00"),)),
        )
    assert caught.value.field == "periods[0]"


async def test_a_technicians_own_hours_are_what_is_offered(shop: Shop) -> None:
    await change_technician(
        shop.uow(),
        shop.owner,
        shop.dana.id,
        TechnicianChanges(set_hours=True, hours=(("sat", "09:00", "12:00"),)),
    )

    found = await shop.slots(jan(6, "00:00"), jan(13, "00:00"))

    assert [local(slot) for slot in found] == ["11 09:00", "11 09:30", "11 10:00", "11 10:30"]


async def test_business_hours_replace_the_old_ones(shop: Shop) -> None:
    hours = await set_business_hours(shop.uow(), shop.owner, [("sun", "10:00", "14:00")])

    assert hours == WeeklyHours((Period(Weekday.SUN, 600, 840),))
    assert await get_business_hours(shop.uow(), shop.owner) == hours
    with pytest.raises(InvalidInput) as caught:
        await set_business_hours(
            shop.uow(), shop.owner, [("mon", "08:00", "12:00"), ("mon", "11:00", "13:00")]
        )
    assert caught.value.field == "periods[1]"
    assert await get_business_hours(shop.uow(), shop.owner) == hours


async def test_closures_are_one_per_date_listed_and_deleted(shop: Shop) -> None:
    later = await add_closure(shop.uow(), shop.owner, day=date(2025, 1, 9), reason=" Inventory ")
    first = await add_closure(shop.uow(), shop.owner, day=date(2025, 1, 7), reason="Holiday")

    with pytest.raises(Conflict) as caught:
        await add_closure(shop.uow(), shop.owner, day=date(2025, 1, 9), reason="again")
    assert caught.value.field == "date"
    page = await list_closures(shop.uow(), shop.owner, None, 1)
    assert page.items == (first,)
    assert page.next_after == ("2025-01-07", first.id)
    rest = await list_closures(shop.uow(), shop.owner, page.next_after, 1)
    assert rest.items == (later,)
    assert later.reason == "Inventory"

    starts = [
        local(slot) for slot in await shop.slots(jan(7, "00:00"), jan(10, "00:00"), spread_day=True)
    ]
    assert starts == ["08 08:00"]

    await delete_closure(shop.uow(), shop.owner, first.id)
    with pytest.raises(NotFound):
        await delete_closure(shop.uow(), shop.owner, first.id)
    assert (await list_closures(shop.uow(), shop.owner, None, 10)).items == (later,)


async def test_busy_blocks_are_validated_listed_and_deleted(shop: Shop) -> None:
    late = await add_busy_block(
        shop.uow(),
        shop.owner,
        technician_id=shop.dana.id,
        start=jan(8, "08:00"),
        end=jan(8, "12:00"),
    )
    early = await add_busy_block(
        shop.uow(),
        shop.owner,
        technician_id=shop.dana.id,
        start=jan(7, "08:00"),
        end=jan(7, "12:00"),
    )

    page = await list_busy_blocks(shop.uow(), shop.owner, None, 1)
    assert page.items == (early,)
    assert (await list_busy_blocks(shop.uow(), shop.owner, page.next_after, 5)).items == (late,)
    with pytest.raises(InvalidInput) as caught:
        await add_busy_block(
            shop.uow(),
            shop.owner,
            technician_id=uuid.uuid4(),
            start=jan(8, "08:00"),
            end=jan(8, "09:00"),
        )
    assert caught.value.field == "technician_id"
    with pytest.raises(InvalidInput) as caught:
        await add_busy_block(
            shop.uow(),
            shop.owner,
            technician_id=shop.dana.id,
            start=jan(8, "09:00"),
            end=jan(8, "09:00"),
        )
    assert caught.value.field == "end"

    await delete_busy_block(shop.uow(), shop.owner, early.id)
    with pytest.raises(NotFound):
        await delete_busy_block(shop.uow(), shop.owner, early.id)
    assert (await list_busy_blocks(shop.uow(), shop.owner, None, 5)).items == (late,)


async def test_settings_are_the_defaults_until_changed(shop: Shop) -> None:
    assert await get_settings(shop.uow(), shop.owner) == SchedulingSettings(shop.tenant.id)

    changed = await update_settings(
        shop.uow(), shop.owner, buffer_minutes=15, daily_limit_per_technician=4
    )

    assert changed == SchedulingSettings(
        shop.tenant.id, buffer_minutes=15, daily_limit_per_technician=4
    )
    assert await get_settings(shop.uow(), shop.owner) == changed
    assert shop.store.scheduling_settings[shop.tenant.id] == changed
    with pytest.raises(InvalidInput) as caught:
        await update_settings(shop.uow(), shop.owner, hold_ttl_minutes=61)
    assert caught.value.field == "hold_ttl_minutes"
    assert await update_settings(shop.uow(), shop.owner, buffer_minutes=15) == changed
    assert await get_settings(shop.uow(), shop.owner) == changed


async def test_a_hold_needs_an_e164_contact(shop: Shop) -> None:
    with pytest.raises(InvalidInput) as caught:
        await shop.hold(jan(7, "10:00"), contact_phone="555-0123")

    assert caught.value.field == "contact_phone"
    assert shop.events() == []


async def test_the_daily_limit_sees_the_whole_of_a_25_hour_day() -> None:
    """2025-11-02 in Chicago lasts 25 hours (02:00 CDT becomes 01:00 CST): 05:00Z to 06:00Z the
    next day. A job at 00:00 CDT counts against a start at 23:30 CST, 24.5 hours later."""
    store = InMemoryStore(now=datetime(2025, 10, 30, 15, tzinfo=UTC))
    new_uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    tenant, _ = await onboard(new_uow)
    owner = Principal(OWNER_EMAIL, tenant.id)
    item = await create_item(new_uow(), owner, NewItem("Valve Check", 9_900, 30))
    await set_business_hours(new_uow(), owner, [("sun", "00:00", "24:00")])
    dana = await add_technician(new_uow(), owner, name="Dana Whitfield")
    await update_settings(new_uow(), owner, daily_limit_per_technician=1)
    first = await hold_slot(
        new_uow(),
        owner,
        HoldRequest(item.id, dana.id, datetime(2025, 11, 2, 5, 0, tzinfo=UTC), CALLER),
    )
    await book_hold(new_uow(), owner, first.booking.id, None)
    late = datetime(2025, 11, 3, 5, 30, tzinfo=UTC)  # Sunday 23:30 CST

    found = await available_slots(
        new_uow(), owner, item_id=item.id, start=late, end=late + timedelta(minutes=30), limit=5
    )

    assert found.slots == ()
    with pytest.raises(SlotTaken):
        await hold_slot(new_uow(), owner, HoldRequest(item.id, dana.id, late, OTHER_CALLER))


async def test_a_start_at_the_end_of_the_window_sees_what_follows_it(shop: Shop) -> None:
    # The 90-minute flush from 09:00 would run into the hold at 10:00, which starts after the
    # window asked about: it must still count.
    await shop.hold(jan(7, "10:00"))

    starts = [local(slot) for slot in await shop.slots(jan(7, "08:00"), jan(7, "09:00"))]

    assert starts == ["07 08:00", "07 08:30"]


async def test_a_hold_sees_a_claim_inside_its_buffer(shop: Shop) -> None:
    await update_settings(shop.uow(), shop.owner, buffer_minutes=15)
    await shop.hold(jan(7, "10:00"))

    # 08:30 to 10:00, then 15 minutes of buffer: the hold at 10:00 is in the way.
    with pytest.raises(SlotTaken):
        await shop.hold(jan(7, "08:30"), contact_phone=OTHER_CALLER)
    starts = [local(slot) for slot in await shop.slots(jan(7, "08:00"), jan(7, "08:30"))]
    assert starts == ["07 08:00"]


async def test_a_search_read_in_stretches_finds_each_start_and_each_day_once(shop: Shop) -> None:
    # The first stretch read is two days: from Monday 14:00 it ends Wednesday 14:00, a start
    # both stretches see, on a day both see.
    found = await shop.slots(jan(6, "14:00"), jan(16, "00:00"))
    starts = [local(slot) for slot in found]
    assert len(starts) == len(set(starts)) == 4 + 48 + 36
    assert starts[:6] == ["06 14:00", "06 14:30", "06 15:00", "06 15:30", "07 08:00", "07 08:30"]
    assert "08 14:00" in starts

    by_day = await shop.slots(jan(6, "14:00"), jan(16, "00:00"), spread_day=True)
    assert [local(slot) for slot in by_day] == [
        "06 14:00",
        "07 08:00",
        "08 08:00",
        "09 08:00",
        "10 08:00",
        "13 08:00",
        "14 08:00",
        "15 08:00",
    ]


async def test_alternatives_across_stretches_count_starts_and_repeat_none(shop: Shop) -> None:
    sam = await add_technician(shop.uow(), shop.owner, name="Sam Okafor")
    async with shop.uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        item = await uow.catalog.get(shop.tenant.id, shop.flush)
        assert item is not None
        # Mon 4 starts, Tue 12, Wed 9 up to 14:00 (the first stretch's end, seen by both
        # stretches): 25, then 14:30 and 15:00 from the second stretch.
        found = await search(
            uow, shop.tenant, item, start=jan(6, "14:00"), end=jan(16, "00:00"), limit=27,
            alternatives=True,
        )  # fmt: skip

    pairs = [(slot.technician_id, local(slot)) for slot in found]
    assert len(pairs) == len(set(pairs)) == 2 * 27
    starts = sorted({local(slot) for slot in found})
    assert len(starts) == 27
    assert starts[-3:] == ["08 14:00", "08 14:30", "08 15:00"]
    assert {who for who, start in pairs if start == "08 14:00"} == {shop.dana.id, sam.id}
