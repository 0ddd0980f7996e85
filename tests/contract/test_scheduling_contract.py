"""Scheduling contracts (fakes and PostgreSQL): technicians, hours, settings, closures, busy
blocks, bookings and the calendar window read; the no-overlap guarantee of claims, and expired
holds released by the claim that needs their time.

Times are relative to the backend's clock (the store's, or PostgreSQL's now()), so expiry is
judged the same way on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import attrs
import psycopg
import pytest

from nmc_domain.catalog.model import ServiceItem
from nmc_domain.scheduling.availability import Taken
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.errors import SlotTaken
from nmc_domain.scheduling.model import (
    BusyBlock,
    Closure,
    Period,
    Technician,
    Weekday,
    WeeklyHours,
    new_busy_block,
    new_closure,
    weekly_hours,
)
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant
from nmc_domain.unit_of_work import UnitOfWork
from tests.contract.backends import Backend
from tests.contract.builders import an_item, stored_tenant

CALLER = "+15555550123"
CHICAGO = timezone(timedelta(hours=-6))
HOURS = weekly_hours(
    [("mon", "08:00", "12:00"), ("mon", "13:00", "17:00"), ("sat", "09:00", "24:00")]
)


@attrs.define
class Schedule:
    backend: Backend
    tenant: Tenant
    item: ServiceItem
    dana: Technician
    ruiz: Technician
    now: datetime  # the backend's clock when the tenant was set up
    base: datetime  # a whole hour two days after it: where the bookings go

    async def run(
        self, work: Callable[[UnitOfWork], Awaitable[Any]], *, commit: bool = True
    ) -> Any:
        async with self.backend.new_uow() as uow:
            await uow.bind_tenant(self.tenant.id)
            result = await work(uow)
            if commit:
                await uow.commit()
            return result

    def at(self, hours: float) -> datetime:
        return self.base + timedelta(hours=hours)

    def booking(
        self,
        start: float,
        end: float,
        *,
        technician: Technician | None = None,
        status: BookingStatus = BookingStatus.HELD,
        buffer_minutes: int = 0,
        expires_at: datetime | None = None,
        **fields: Any,
    ) -> Booking:
        """A booking from `start` to `end` hours after `base`; a hold expires 15 minutes from
        the backend's clock unless told."""
        if status is BookingStatus.HELD and expires_at is None:
            expires_at = self.now + timedelta(minutes=15)
        return Booking(
            id=uuid.uuid4(),
            tenant_id=self.tenant.id,
            technician_id=(technician or self.dana).id,
            item_id=self.item.id,
            contact_phone=CALLER,
            start=self.at(start),
            end=self.at(end),
            blocked_until=self.at(end) + timedelta(minutes=buffer_minutes),
            status=status,
            expires_at=expires_at,
            **fields,
        )

    async def claim(self, *bookings: Booking) -> None:
        async def work(uow: UnitOfWork) -> None:
            for booking in bookings:
                await uow.bookings.claim(booking)

        await self.run(work)

    async def get(self, booking_id: UUID) -> Booking | None:
        return await self.run(
            lambda uow: uow.bookings.get(self.tenant.id, booking_id), commit=False
        )  # type: ignore[no-any-return]


@pytest.fixture
async def schedule(backend: Backend) -> Schedule:
    tenant, _ = await stored_tenant(backend.new_uow)
    item = an_item(tenant.id)
    dana = Technician(uuid.uuid4(), tenant.id, "Dana Whitfield")
    ruiz = Technician(uuid.uuid4(), tenant.id, "Luis Ruiz", item_ids=frozenset({item.id}))
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.catalog.add(item)
        await uow.technicians.add(dana)
        await uow.technicians.add(ruiz)
        await uow.commit()
    now = await backend.clock()
    base = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    return Schedule(backend, tenant, item, dana, ruiz, now, base)


# --- technicians, hours, settings -------------------------------------------------------------


async def test_technicians_round_trip_every_field(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    restricted = Technician(
        uuid.uuid4(),
        tenant_id,
        "Ava Kim",
        active=False,
        item_ids=frozenset({schedule.item.id, uuid.uuid4()}),
        hours=HOURS,
    )
    nothing = Technician(
        uuid.uuid4(), tenant_id, "Nobody", item_ids=frozenset(), hours=WeeklyHours()
    )
    await schedule.run(lambda uow: uow.technicians.add(restricted))
    await schedule.run(lambda uow: uow.technicians.add(nothing))

    async def read(uow: UnitOfWork) -> list[Technician | None]:
        return [
            await uow.technicians.get(tenant_id, technician.id, lock=lock)
            for technician in (schedule.dana, schedule.ruiz, restricted, nothing)
            for lock in (RowLock.NONE, RowLock.UPDATE)
        ]

    found = await schedule.run(read, commit=False)

    assert found == [
        schedule.dana,
        schedule.dana,
        schedule.ruiz,
        schedule.ruiz,
        restricted,
        restricted,
        nothing,
        nothing,
    ]
    assert (found[0].item_ids, found[0].hours) == (None, None)
    assert found[6].item_ids == frozenset()
    assert found[6].hours == WeeklyHours()


async def test_a_saved_technician_changes_name_active_items_and_hours(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    changed = attrs.evolve(schedule.ruiz, name="Luis R.", active=False, item_ids=None, hours=HOURS)
    await schedule.run(lambda uow: uow.technicians.save(changed))
    assert (
        await schedule.run(lambda uow: uow.technicians.get(tenant_id, changed.id), commit=False)
        == changed
    )

    back = attrs.evolve(changed, active=True, item_ids=frozenset({schedule.item.id}), hours=None)
    await schedule.run(lambda uow: uow.technicians.save(back))
    assert (
        await schedule.run(lambda uow: uow.technicians.get(tenant_id, back.id), commit=False)
        == back
    )


async def test_technicians_are_found_by_email_and_an_email_is_one_technicians(
    schedule: Schedule,
) -> None:
    tenant_id = schedule.tenant.id
    dana = attrs.evolve(schedule.dana, email="dana@acme.test")
    await schedule.run(lambda uow: uow.technicians.save(dana))
    ava = Technician(uuid.uuid4(), tenant_id, "Ava Kim", active=False, email="ava@acme.test")
    await schedule.run(lambda uow: uow.technicians.add(ava))

    found = await schedule.run(
        lambda uow: uow.technicians.by_emails(
            tenant_id, ["AVA@acme.test", "dana@acme.test", "nobody@acme.test"]
        ),
        commit=False,
    )
    assert sorted(found, key=lambda t: t.name) == [ava, dana]
    none = await schedule.run(lambda uow: uow.technicians.by_emails(tenant_id, []), commit=False)
    assert list(none) == []

    twin = Technician(uuid.uuid4(), tenant_id, "Dana Twin", email="dana@acme.test")
    with pytest.raises(Conflict) as added:
        await schedule.run(lambda uow: uow.technicians.add(twin))
    assert added.value.field == "email"
    with pytest.raises(Conflict) as saved:
        await schedule.run(
            lambda uow: uow.technicians.save(attrs.evolve(schedule.ruiz, email="ava@acme.test"))
        )
    assert saved.value.field == "email"
    kept = await schedule.run(
        lambda uow: uow.technicians.get(tenant_id, schedule.ruiz.id), commit=False
    )
    assert kept == schedule.ruiz


async def test_technicians_come_by_name_then_id_in_pages(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    twins = sorted(
        (Technician(uuid.uuid4(), tenant_id, "Sam Ortiz") for _ in range(2)), key=lambda t: t.id
    )
    lower = Technician(uuid.uuid4(), tenant_id, "adam lowercase")  # after capitals, bytewise
    for technician in (lower, twins[1], twins[0]):
        await schedule.run(lambda uow, t=technician: uow.technicians.add(t))
    expected = [schedule.dana, schedule.ruiz, twins[0], twins[1], lower]

    async def walk(uow: UnitOfWork) -> list[list[Technician]]:
        pages, after = [], None
        while True:
            rows = list(await uow.technicians.page(tenant_id, after, 2))
            if not rows:
                return pages
            pages.append(rows)
            after = (rows[-1].name, rows[-1].id)

    pages = await schedule.run(walk, commit=False)

    assert pages == [expected[0:2], expected[2:4], expected[4:5]]
    other, _ = await stored_tenant(schedule.backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    async with schedule.backend.new_uow() as uow:
        await uow.bind_tenant(other.id)
        assert list(await uow.technicians.page(other.id, None, 10)) == []
        assert await uow.technicians.get(other.id, schedule.dana.id) is None


async def test_business_hours_are_none_then_replaced(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    get = lambda uow: uow.business_hours.get(tenant_id)  # noqa: E731

    assert await schedule.run(get, commit=False) == WeeklyHours()
    await schedule.run(lambda uow: uow.business_hours.replace(tenant_id, HOURS))
    assert await schedule.run(get, commit=False) == HOURS
    sundays = WeeklyHours((Period(Weekday.SUN, 0, 1440),))
    await schedule.run(lambda uow: uow.business_hours.replace(tenant_id, sundays))
    assert await schedule.run(get, commit=False) == sundays
    await schedule.run(lambda uow: uow.business_hours.replace(tenant_id, WeeklyHours()))
    assert await schedule.run(get, commit=False) == WeeklyHours()


async def test_settings_are_the_defaults_until_saved(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    get = lambda uow: uow.scheduling_settings.get(tenant_id)  # noqa: E731
    assert await schedule.run(get, commit=False) == SchedulingSettings(tenant_id)

    every = SchedulingSettings(
        tenant_id,
        slot_granularity_minutes=15,
        buffer_minutes=20,
        min_notice_minutes=120,
        horizon_days=30,
        hold_ttl_minutes=5,
        daily_limit_per_technician=3,
    )
    await schedule.run(lambda uow: uow.scheduling_settings.save(every))
    assert await schedule.run(get, commit=False) == every

    unlimited = attrs.evolve(every, daily_limit_per_technician=None, buffer_minutes=0)
    await schedule.run(lambda uow: uow.scheduling_settings.save(unlimited))
    assert await schedule.run(get, commit=False) == unlimited


# --- closures and busy blocks -----------------------------------------------------------------


async def test_closures_are_one_per_date_in_date_order(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    christmas = new_closure(tenant_id=tenant_id, day=date(2025, 12, 25), reason="Christmas")
    july = new_closure(tenant_id=tenant_id, day=date(2025, 7, 4), reason="")
    boxing = new_closure(tenant_id=tenant_id, day=date(2025, 12, 26), reason="Boxing Day")
    for closure in (christmas, july, boxing):
        await schedule.run(lambda uow, c=closure: uow.closures.add(c))

    again = new_closure(tenant_id=tenant_id, day=date(2025, 12, 25), reason="again")
    with pytest.raises(Conflict) as caught:
        await schedule.run(lambda uow: uow.closures.add(again))
    assert caught.value.field == "date"

    async def pages(uow: UnitOfWork) -> tuple[list[Closure], list[Closure]]:
        first = list(await uow.closures.page(tenant_id, None, 2))
        rest = list(
            await uow.closures.page(tenant_id, (first[-1].day.isoformat(), first[-1].id), 2)
        )
        return first, rest

    assert await schedule.run(pages, commit=False) == ([july, christmas], [boxing])

    assert await schedule.run(lambda uow: uow.closures.delete(tenant_id, christmas.id)) is True
    assert await schedule.run(lambda uow: uow.closures.delete(tenant_id, christmas.id)) is False
    assert list(
        await schedule.run(lambda uow: uow.closures.page(tenant_id, None, 10), commit=False)
    ) == [
        july,
        boxing,
    ]
    # The date is free again.
    await schedule.run(lambda uow: uow.closures.add(attrs.evolve(christmas, id=uuid.uuid4())))


async def test_an_uncommitted_delete_keeps_the_closure(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    closure = new_closure(tenant_id=tenant_id, day=date(2025, 11, 27), reason="Thanksgiving")
    await schedule.run(lambda uow: uow.closures.add(closure))

    assert await schedule.run(lambda uow: uow.closures.delete(tenant_id, closure.id), commit=False)

    assert list(
        await schedule.run(lambda uow: uow.closures.page(tenant_id, None, 5), commit=False)
    ) == [closure]


async def test_busy_blocks_come_by_start_then_id_and_can_be_deleted(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id

    def block(hours: float, technician: Technician, zone: timezone = UTC) -> BusyBlock:
        start = schedule.at(hours).astimezone(zone)
        return new_busy_block(
            tenant_id=tenant_id,
            technician_id=technician.id,
            start=start,
            end=start + timedelta(hours=1),
        )

    # Given with another offset, the latest start must still sort last.
    late = block(5, schedule.ruiz, CHICAGO)
    early = block(1, schedule.dana)
    middle = block(3, schedule.dana)
    twins = sorted([block(4, schedule.dana), block(4, schedule.ruiz)], key=lambda b: b.id)
    for one in (late, middle, twins[1], early, twins[0]):
        await schedule.run(lambda uow, b=one: uow.busy_blocks.add(b))

    async def walk(uow: UnitOfWork) -> list[BusyBlock]:
        rows, after = [], None
        while page := list(await uow.busy_blocks.page(tenant_id, after, 2)):
            rows += page
            after = (page[-1].start.isoformat(), page[-1].id)
        return rows

    assert await schedule.run(walk, commit=False) == [early, middle, twins[0], twins[1], late]

    assert await schedule.run(lambda uow: uow.busy_blocks.delete(tenant_id, middle.id)) is True
    assert await schedule.run(lambda uow: uow.busy_blocks.delete(tenant_id, middle.id)) is False
    assert await schedule.run(walk, commit=False) == [early, twins[0], twins[1], late]


async def test_an_external_event_is_stored_once_per_technician(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    start = schedule.at(1)
    event = BusyBlock(
        uuid.uuid4(),
        tenant_id,
        schedule.dana.id,
        start,
        start + timedelta(hours=1),
        "google",
        "evt-1",
    )
    await schedule.run(lambda uow: uow.busy_blocks.add(event))
    same_for_ruiz = attrs.evolve(event, id=uuid.uuid4(), technician_id=schedule.ruiz.id)
    await schedule.run(lambda uow: uow.busy_blocks.add(same_for_ruiz))

    with pytest.raises(Conflict) as caught:
        await schedule.run(lambda uow: uow.busy_blocks.add(attrs.evolve(event, id=uuid.uuid4())))

    assert caught.value.field == "external_id"
    rows = await schedule.run(lambda uow: uow.busy_blocks.page(tenant_id, None, 10), commit=False)
    assert sorted(rows, key=lambda b: b.id) == sorted([event, same_for_ruiz], key=lambda b: b.id)


# --- bookings ---------------------------------------------------------------------------------


async def test_a_booking_round_trips_through_claim_save_and_move(schedule: Schedule) -> None:
    hold = schedule.booking(1, 2.5, buffer_minutes=15, conversation_id=uuid.uuid4())
    await schedule.claim(hold)
    assert await schedule.get(hold.id) == hold

    booked = attrs.evolve(
        hold,
        status=BookingStatus.BOOKED,
        expires_at=None,
        price_cents=18_900,
        currency="USD",
        idempotency_key="key-1",
    )
    await schedule.run(lambda uow: uow.bookings.save(booked))
    assert await schedule.get(hold.id) == booked
    by_key = await schedule.run(
        lambda uow: uow.bookings.by_idempotency_key(schedule.tenant.id, "key-1"), commit=False
    )
    assert by_key == booked
    assert (
        await schedule.run(
            lambda uow: uow.bookings.by_idempotency_key(schedule.tenant.id, "key-2"), commit=False
        )
        is None
    )

    moved = attrs.evolve(
        booked,
        technician_id=schedule.ruiz.id,
        start=schedule.at(1.5),
        end=schedule.at(3),
        blocked_until=schedule.at(3.25),
    )
    await schedule.run(lambda uow: uow.bookings.move(moved))
    assert await schedule.get(hold.id) == moved
    locked = await schedule.run(
        lambda uow: uow.bookings.get(schedule.tenant.id, hold.id, lock=RowLock.UPDATE), commit=False
    )
    assert locked == moved
    assert await schedule.get(uuid.uuid4()) is None


async def test_a_key_books_one_hold_only(schedule: Schedule) -> None:
    first = schedule.booking(1, 2, status=BookingStatus.BOOKED, idempotency_key="key-1")
    second = schedule.booking(3, 4)
    await schedule.claim(first, second)

    taken = attrs.evolve(
        second, status=BookingStatus.BOOKED, expires_at=None, idempotency_key="key-1"
    )
    with pytest.raises(Conflict) as caught:
        await schedule.run(lambda uow: uow.bookings.save(taken))

    assert caught.value.field == "Idempotency-Key"
    assert await schedule.get(second.id) == second


async def test_appointments_are_listed_by_start_then_id(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    booked = BookingStatus.BOOKED
    twins = sorted(
        [
            schedule.booking(1, 2, status=booked),
            schedule.booking(1, 2, status=booked, technician=schedule.ruiz),
        ],
        key=lambda b: b.id,
    )
    canceled = schedule.booking(3, 4, status=BookingStatus.CANCELED)
    later = schedule.booking(5, 6, status=booked, technician=schedule.ruiz)
    held = schedule.booking(7, 8)
    released = schedule.booking(9, 10, status=BookingStatus.RELEASED)
    expired = schedule.booking(11, 12, status=BookingStatus.EXPIRED)
    outside = schedule.booking(30, 31, status=booked)
    await schedule.claim(later, canceled, twins[1], held, released, twins[0], expired, outside)

    def listing(
        start: float = 0,
        end: float = 24,
        technician_id: UUID | None = None,
        after: Any = None,
        limit: int = 10,
    ):
        return lambda uow: uow.bookings.appointments(
            tenant_id, schedule.at(start), schedule.at(end), technician_id, after, limit
        )

    assert list(await schedule.run(listing(), commit=False)) == [*twins, canceled, later]
    first = list(await schedule.run(listing(limit=1), commit=False))
    assert first == [twins[0]]
    after = (first[0].start.isoformat(), first[0].id)
    assert list(await schedule.run(listing(after=after, limit=2), commit=False)) == [
        twins[1],
        canceled,
    ]
    ruiz = await schedule.run(listing(technician_id=schedule.ruiz.id), commit=False)
    assert list(ruiz) == [b for b in (*twins, later) if b.technician_id == schedule.ruiz.id]
    ruiz_after = await schedule.run(
        listing(
            technician_id=schedule.ruiz.id,
            after=(schedule.at(1).isoformat(), uuid.UUID(int=2**128 - 1)),
        ),
        commit=False,
    )
    assert list(ruiz_after) == [later]
    # [start, end): a start on the end is out, on the start in.
    assert list(await schedule.run(listing(start=1, end=5), commit=False)) == [*twins, canceled]
    assert list(await schedule.run(listing(start=3, end=30), commit=False)) == [canceled, later]


# --- the guarantee: no two active claims of a technician overlap ------------------------------


async def test_an_overlapping_claim_is_refused(schedule: Schedule) -> None:
    first = schedule.booking(1, 2, buffer_minutes=30)
    await schedule.claim(first)

    for start, end in (
        (1, 2),
        (0.5, 1.25),
        (1.75, 3),
        (0, 4),
        (2.25, 3),
    ):  # the last: in the buffer
        with pytest.raises(SlotTaken):
            await schedule.claim(schedule.booking(start, end))
    booked = schedule.booking(3, 4, status=BookingStatus.BOOKED)
    await schedule.claim(booked)
    with pytest.raises(SlotTaken):
        await schedule.claim(schedule.booking(3.5, 5))

    # Touching is fine, and so is the same time for another technician.
    await schedule.claim(
        schedule.booking(0, 1),
        schedule.booking(2.5, 3),
        schedule.booking(1, 2, technician=schedule.ruiz),
    )


async def test_a_refused_claim_keeps_nothing_of_its_unit_of_work(schedule: Schedule) -> None:
    await schedule.claim(schedule.booking(1, 2))
    fine, clashing = schedule.booking(5, 6), schedule.booking(1.5, 2.5)

    with pytest.raises(SlotTaken):
        await schedule.claim(fine, clashing)

    assert await schedule.get(fine.id) is None
    assert await schedule.get(clashing.id) is None


async def test_released_canceled_and_expired_rows_do_not_block(schedule: Schedule) -> None:
    gone = [
        schedule.booking(1, 2, status=status)
        for status in (BookingStatus.RELEASED, BookingStatus.CANCELED, BookingStatus.EXPIRED)
    ]
    await schedule.claim(*gone)

    await schedule.claim(schedule.booking(1, 2))


async def test_a_move_onto_another_claim_is_refused_but_over_its_own_time_is_fine(
    schedule: Schedule,
) -> None:
    mine = schedule.booking(1, 2, status=BookingStatus.BOOKED)
    other = schedule.booking(3, 4, status=BookingStatus.BOOKED)
    await schedule.claim(mine, other)

    with pytest.raises(SlotTaken):
        await schedule.run(
            lambda uow: uow.bookings.move(
                attrs.evolve(
                    mine,
                    start=schedule.at(2.5),
                    end=schedule.at(3.5),
                    blocked_until=schedule.at(3.5),
                )
            )
        )
    assert await schedule.get(mine.id) == mine

    overlapping_itself = attrs.evolve(
        mine, start=schedule.at(1.5), end=schedule.at(2.5), blocked_until=schedule.at(2.5)
    )
    await schedule.run(lambda uow: uow.bookings.move(overlapping_itself))
    assert await schedule.get(mine.id) == overlapping_itself


async def test_an_expired_hold_is_released_by_the_claim_that_needs_its_time(
    schedule: Schedule,
) -> None:
    now = await schedule.backend.clock()
    expired = schedule.booking(1, 2, expires_at=now - timedelta(minutes=1))
    elsewhere = schedule.booking(5, 6, expires_at=now - timedelta(minutes=1))
    live = schedule.booking(8, 9, expires_at=now + timedelta(minutes=30))
    await schedule.claim(expired, elsewhere, live)
    newcomer = schedule.booking(1.5, 2.5)

    async def claim_then_read(uow: UnitOfWork) -> Booking | None:
        await uow.bookings.claim(newcomer)
        return await uow.bookings.get(schedule.tenant.id, expired.id)  # type: ignore[no-any-return]

    # Released in the claiming unit of work itself...
    seen = await schedule.run(claim_then_read, commit=False)
    assert seen == attrs.evolve(expired, status=BookingStatus.EXPIRED)
    # ... and only with it: rolled back, the hold is still stored as held.
    assert await schedule.get(expired.id) == expired
    assert await schedule.get(newcomer.id) is None

    await schedule.run(claim_then_read)

    assert await schedule.get(newcomer.id) == newcomer
    assert (await schedule.get(expired.id)) == attrs.evolve(expired, status=BookingStatus.EXPIRED)
    assert await schedule.get(elsewhere.id) == elsewhere  # not in the way: left alone
    with pytest.raises(SlotTaken):
        await schedule.claim(schedule.booking(8.5, 9.5))  # a live hold blocks
    assert await schedule.get(live.id) == live


# --- the window read --------------------------------------------------------------------------


async def test_the_window_reads_what_availability_needs(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    settings = SchedulingSettings(tenant_id, buffer_minutes=10)
    inactive = Technician(uuid.uuid4(), tenant_id, "Retired", active=False)
    first_day = schedule.at(0).date()
    closures = [
        new_closure(tenant_id=tenant_id, day=first_day + timedelta(days=n), reason=str(n))
        for n in (-5, -1, 0, 1, 2, 3, 6)
    ]

    def block(start: float, end: float, technician: Technician = schedule.dana) -> BusyBlock:
        return BusyBlock(
            uuid.uuid4(), tenant_id, technician.id, schedule.at(start), schedule.at(end)
        )

    blocks_in = [block(-3, 0.5), block(10, 11), block(23, 30, schedule.ruiz)]
    blocks_out = [block(-5, 0), block(24, 25)]
    bookings_in = [
        schedule.booking(-1, -0.5, buffer_minutes=60),  # its buffer reaches in
        schedule.booking(5, 6, status=BookingStatus.BOOKED),
        schedule.booking(
            6, 7, technician=schedule.ruiz, expires_at=schedule.now - timedelta(hours=1)
        ),
        # Back to back: one stretch of taken time.
        schedule.booking(12, 13, status=BookingStatus.BOOKED),
        schedule.booking(13, 14),
    ]
    bookings_out = [
        schedule.booking(-2, -1),
        schedule.booking(24, 25),
        schedule.booking(7, 8, status=BookingStatus.RELEASED),
        schedule.booking(8, 9, status=BookingStatus.CANCELED),
        schedule.booking(9, 10, status=BookingStatus.EXPIRED),
    ]

    async def fill(uow: UnitOfWork) -> None:
        await uow.scheduling_settings.save(settings)
        await uow.business_hours.replace(tenant_id, HOURS)
        await uow.technicians.add(inactive)
        for closure in closures:
            await uow.closures.add(closure)
        for one in [*blocks_in, *blocks_out]:
            await uow.busy_blocks.add(one)
        for booking in [*bookings_in, *bookings_out]:
            await uow.bookings.claim(booking)

    await schedule.run(fill)

    window = await schedule.run(
        lambda uow: uow.calendar.window(tenant_id, schedule.at(0), schedule.at(24)), commit=False
    )

    assert window.settings == settings
    assert window.hours == HOURS
    assert sorted(window.technicians, key=lambda t: t.id) == sorted(
        [schedule.dana, schedule.ruiz], key=lambda t: t.id
    )
    # Closures from the day before the window's first to the day after its last, at least.
    assert {first_day + timedelta(days=n) for n in (-1, 0, 1, 2)} <= window.closures
    assert window.closures <= {c.day for c in closures}
    assert first_day - timedelta(days=5) not in window.closures
    assert first_day + timedelta(days=6) not in window.closures
    assert sorted(window.busy, key=lambda b: b.id) == sorted(blocks_in, key=lambda b: b.id)
    assert sorted(window.bookings, key=lambda b: b.id) == sorted(bookings_in, key=lambda b: b.id)

    # One technician's window: the same, but only their claims (and only them).
    ruiz = schedule.ruiz.id
    for who in (ruiz, inactive.id):
        mine = await schedule.run(
            lambda uow, who=who: uow.calendar.window(
                tenant_id, schedule.at(0), schedule.at(24), who
            ),
            commit=False,
        )
        assert (mine.settings, mine.hours, mine.closures) == (
            window.settings,
            window.hours,
            window.closures,
        )
        assert mine.technicians == ((schedule.ruiz,) if who == ruiz else ())
        assert list(mine.busy) == [b for b in blocks_in if b.technician_id == who]
        assert list(mine.bookings) == [b for b in bookings_in if b.technician_id == who]

    # Merged: the time live bookings take instead of the bookings; the expired hold takes none.
    for who in (None, schedule.dana.id, schedule.ruiz.id):
        merged = await schedule.run(
            lambda uow, who=who: uow.calendar.window(
                tenant_id, schedule.at(0), schedule.at(24), who, merged=True
            ),
            commit=False,
        )
        dana = [(-1, 0.5), (5, 6), (12, 14)] if who != schedule.ruiz.id else []
        assert merged.bookings == ()
        assert sorted(merged.taken, key=lambda t: t.start) == [
            Taken(schedule.dana.id, schedule.at(start), schedule.at(end)) for start, end in dana
        ]
        assert sorted(merged.busy, key=lambda b: b.id) == sorted(
            (b for b in blocks_in if who in (None, b.technician_id)), key=lambda b: b.id
        )


async def test_an_empty_tenant_reads_defaults(schedule: Schedule) -> None:
    other, _ = await stored_tenant(schedule.backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    async with schedule.backend.new_uow() as uow:
        await uow.bind_tenant(other.id)
        window = await uow.calendar.window(other.id, schedule.at(0), schedule.at(24))

    assert window.settings == SchedulingSettings(other.id)
    assert (window.hours, window.technicians, window.closures, window.busy, window.bookings) == (
        WeeklyHours(),
        (),
        frozenset(),
        (),
        (),
    )


async def test_closed_dates_between_two_dates_both_included(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    days = [date(2025, 12, 24), date(2025, 12, 25), date(2025, 12, 31), date(2026, 1, 1)]
    closures = [new_closure(tenant_id=tenant_id, day=day, reason="") for day in days]
    for closure in closures:
        await schedule.run(lambda uow, c=closure: uow.closures.add(c))
    await schedule.run(lambda uow: uow.closures.delete(tenant_id, closures[2].id))

    def between(first: date, last: date):  # type: ignore[no-untyped-def]
        return lambda uow: uow.closures.between(tenant_id, first, last)

    found = await schedule.run(between(date(2025, 12, 25), date(2026, 1, 1)), commit=False)
    assert found == frozenset({date(2025, 12, 25), date(2026, 1, 1)})
    assert await schedule.run(between(date(2025, 12, 26), date(2025, 12, 31)), commit=False) == (
        frozenset()
    )
    other, _ = await stored_tenant(schedule.backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    async with schedule.backend.new_uow() as uow:
        await uow.bind_tenant(other.id)
        assert await uow.closures.between(other.id, date(2025, 1, 1), date(2026, 12, 31)) == (
            frozenset()
        )


async def test_saving_what_was_never_stored_stores_nothing(schedule: Schedule) -> None:
    tenant_id = schedule.tenant.id
    stranger = Technician(uuid.uuid4(), tenant_id, "Never Added")
    ghost = schedule.booking(1, 2, status=BookingStatus.RELEASED)

    await schedule.run(lambda uow: uow.technicians.save(stranger))
    await schedule.run(lambda uow: uow.bookings.save(ghost))

    assert (
        await schedule.run(lambda uow: uow.technicians.get(tenant_id, stranger.id), commit=False)
        is None
    )
    assert await schedule.get(ghost.id) is None


async def test_claims_and_busy_blocks_need_a_stored_technician(schedule: Schedule) -> None:
    nobody = Technician(uuid.uuid4(), schedule.tenant.id, "Nobody")
    block = BusyBlock(uuid.uuid4(), schedule.tenant.id, nobody.id, schedule.at(1), schedule.at(2))

    # PostgreSQL's foreign keys refuse them (IntegrityError); the fakes raise ValueError.
    with pytest.raises((ValueError, psycopg.IntegrityError)):
        await schedule.claim(schedule.booking(1, 2, technician=nobody))
    with pytest.raises((ValueError, psycopg.IntegrityError)):
        await schedule.run(lambda uow: uow.busy_blocks.add(block))

    listed = await schedule.run(
        lambda uow: uow.busy_blocks.page(schedule.tenant.id, None, 10), commit=False
    )
    assert list(listed) == []
