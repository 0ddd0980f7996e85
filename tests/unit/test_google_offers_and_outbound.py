"""Technicians' Google Calendars seen from the conversation and the appointments (in memory):
offers re-checked against free/busy when the last sync is stale, and appointments mirrored as
events whose ids come from ours (a retry never makes two; cancel and moves follow)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs
import pytest
from cryptography.fernet import Fernet

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.memory.scheduling.google_calendar import FakeGoogleCalendar
from nmc_domain.conversation.inbound import InboundOutcome
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.events import GoogleSyncRequested
from nmc_domain.scheduling.external_busy import CalendarCheck
from nmc_domain.scheduling.google import GoogleLink
from nmc_domain.scheduling.google_outbound import (
    Mirrored,
    appointment_of_event,
    event_id_of,
    mirror_appointment,
)
from nmc_domain.scheduling.google_ports import CalendarProviderError, GoogleEvent, OwnEvent
from nmc_domain.scheduling.model import Technician
from nmc_domain.scheduling.reservations import cancel_appointment, reschedule_appointment
from nmc_domain.scheduling.setup import add_technician
from tests.support.conversations import Shop, open_shop

CALLER = "+14155550199"
JOB = "my water heater is leaking"
SEALER = FernetSealer(Fernet.generate_key().decode())


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 1, day, hour, minute, tzinfo=UTC)


async def dana(shop: Shop) -> Technician:
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        technicians = await uow.technicians.page(shop.tenant.id, None, 10)
        [technician] = [t for t in technicians if t.name == "Dana Reyes"]
        return technician


async def link(
    shop: Shop, technician: Technician, refresh_token: str, *, synced: datetime | None = None
) -> GoogleLink:
    linked = GoogleLink(
        tenant_id=shop.tenant.id,
        technician_id=technician.id,
        connection_id=uuid.uuid4(),
        calendar_id="primary",
        refresh_token=SEALER.seal(refresh_token),
        connected_at=shop.store.now - timedelta(days=1),
        last_synced_at=synced,
    )
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        await uow.google_links.save(linked)
        await uow.commit()
    return linked


@pytest.fixture
async def shop() -> Shop:
    return await open_shop()


@pytest.fixture
def google() -> FakeGoogleCalendar:
    fake = FakeGoogleCalendar(zone="America/Chicago")
    # Dana's own calendar: a dentist appointment Monday 9:00-15:00 Chicago (15:00-21:00Z).
    fake.set_event("dana-grant", GoogleEvent("dentist", "confirmed", None, utc(6, 15), utc(6, 21)))
    return fake


async def offered(shop: Shop) -> list[datetime]:
    result = await shop.text(CALLER, JOB)
    assert result.outcome is InboundOutcome.ANSWERED
    return sorted(offer.start for offer in shop.conversation(CALLER).memory.offers)


# --- offers re-checked against free/busy -------------------------------------------------


async def test_a_stale_calendar_is_asked_once_and_its_busy_times_are_not_offered(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now - timedelta(minutes=2))
    shop.calendars = CalendarCheck(google, SEALER)

    # Without the calendar the offers are 10:00, 12:00 and 14:00 Monday (the flow tests);
    # Dana is busy until 15:00: the first free start is 15:00, then Tuesday 8:00 and 10:00.
    assert await offered(shop) == [utc(6, 21), utc(7, 14), utc(7, 16)]
    assert google.calls == ["free_busy"]
    assert {b.start for b in shop.bookings(BookingStatus.HELD)} == {
        utc(6, 21),
        utc(7, 14),
        utc(7, 16),
    }
    # The shadow rows missed the dentist: a sync of Dana's calendar is queued, once.
    [requested] = shop.events(GoogleSyncRequested)
    assert (requested.technician_id, requested.reason) == ((await dana(shop)).id, "freebusy")


async def test_a_calendar_synced_within_the_minute_is_not_asked(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now - timedelta(seconds=30))
    shop.calendars = CalendarCheck(google, SEALER)

    # The shadow rows are trusted (none here: the sync has not seen the dentist yet).
    assert await offered(shop) == [utc(6, 16), utc(6, 18), utc(6, 20)]
    assert google.calls == []
    assert shop.events(GoogleSyncRequested) == []


async def test_a_never_synced_calendar_is_asked(shop: Shop, google: FakeGoogleCalendar) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=None)
    shop.calendars = CalendarCheck(google, SEALER)

    assert await offered(shop) == [utc(6, 21), utc(7, 14), utc(7, 16)]
    assert google.calls == ["free_busy"]


async def test_google_failing_offers_from_what_is_known_and_tells_the_caller_nothing(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=None)
    google.fail_next("free_busy", CalendarProviderError("backendError", status=503))
    shop.calendars = CalendarCheck(google, SEALER)

    assert await offered(shop) == [utc(6, 16), utc(6, 18), utc(6, 20)]
    assert google.calls == ["free_busy"]
    assert "calendar" not in shop.bodies(CALLER)[-1].lower()


class SlowFreeBusy(FakeGoogleCalendar):
    async def free_busy(
        self, refresh_token: str, calendar_id: str, start: datetime, end: datetime
    ) -> tuple[tuple[datetime, datetime], ...]:
        busy = await super().free_busy(refresh_token, calendar_id, start, end)
        await asyncio.sleep(5)
        return busy


async def test_a_slow_google_is_not_waited_for(shop: Shop) -> None:
    google = SlowFreeBusy()
    google.set_event(
        "dana-grant", GoogleEvent("dentist", "confirmed", None, utc(6, 15), utc(6, 21))
    )
    await link(shop, await dana(shop), "dana-grant", synced=None)
    shop.calendars = CalendarCheck(google, SEALER, timeout_seconds=0.05)

    assert await offered(shop) == [utc(6, 16), utc(6, 18), utc(6, 20)]
    assert google.calls == ["free_busy"]


async def test_a_revoked_link_or_an_unlinked_technician_is_not_asked(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    linked = await link(shop, await dana(shop), "dana-grant", synced=None)
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        await uow.google_links.save(attrs.evolve(linked, revoked_at=shop.store.now))
        await uow.commit()
    shop.calendars = CalendarCheck(google, SEALER)

    assert await offered(shop) == [utc(6, 16), utc(6, 18), utc(6, 20)]
    assert google.calls == []


# --- appointments mirrored as events -----------------------------------------------------


async def booked(shop: Shop) -> Booking:
    await shop.text(CALLER, JOB)
    await shop.text(CALLER, "1")
    [appointment] = shop.bookings(BookingStatus.BOOKED)
    return appointment


def events_of(google: FakeGoogleCalendar, grant: str) -> dict[str, GoogleEvent]:
    return {event_id: event for event_id, (event, _) in google.calendar(grant).events.items()}


def test_event_ids_are_base32hex_and_come_back_to_their_appointment() -> None:
    appointment_id = UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    event_id = event_id_of(appointment_id)
    assert event_id == "nmc0f1e2d3c4b5a69788796a5b4c3d2e1f0"
    assert set(event_id) <= set("0123456789abcdefghijklmnopqrstuv")
    assert appointment_of_event(event_id) == appointment_id
    assert appointment_of_event("someone-else") is None
    assert appointment_of_event("x", {"nmc_appointment_id": str(appointment_id)}) == appointment_id
    assert appointment_of_event("x", {"nmc_appointment_id": "not-a-uuid"}) is None


async def test_a_booking_becomes_one_event_however_often_it_is_mirrored(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now)
    appointment = await booked(shop)

    first = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)
    again = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)

    assert (first, again) == ((Mirrored.PUT,), (Mirrored.PUT,))
    event_id = "nmc" + appointment.id.hex
    ours = events_of(google, "dana-grant")[event_id]
    assert (ours.status, ours.start, ours.end) == ("confirmed", utc(6, 16), utc(6, 17, 30))
    assert ours.private == {"nmc_appointment_id": str(appointment.id)}
    assert [e.id for e in google.put] == [event_id, event_id]
    assert google.put[0].summary == "Water heater flush (NeverMissCall)"
    assert CALLER in google.put[0].description
    assert sorted(events_of(google, "dana-grant")) == ["dentist", event_id]


async def test_a_canceled_appointment_is_deleted_from_the_calendar(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now)
    appointment = await booked(shop)
    await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)

    await cancel_appointment(shop.new_uow(), shop.owner, appointment.id)
    done = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)

    assert done == (Mirrored.DELETED,)
    assert events_of(google, "dana-grant")["nmc" + appointment.id.hex].status == "cancelled"


async def test_a_move_to_another_technician_leaves_the_first_calendar_for_the_second(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    sam = await add_technician(shop.new_uow(), shop.owner, name="Sam Ortiz")
    grants = {(await dana(shop)).id: "dana-grant", sam.id: "sam-grant"}
    for technician_id, grant in grants.items():
        await link(shop, attrs.evolve(sam, id=technician_id), grant, synced=shop.store.now)
    appointment = await booked(shop)
    await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)
    [other] = set(grants) - {appointment.technician_id}

    await reschedule_appointment(
        shop.new_uow(), shop.owner, appointment.id, technician_id=other, start=utc(7, 15)
    )
    done = await mirror_appointment(
        shop.new_uow,
        google,
        SEALER,
        shop.tenant.id,
        appointment.id,
        previous_technician_id=appointment.technician_id,
    )

    event_id = "nmc" + appointment.id.hex
    assert done == (Mirrored.DELETED, Mirrored.PUT)
    assert events_of(google, grants[appointment.technician_id])[event_id].status == "cancelled"
    moved = events_of(google, grants[other])[event_id]
    assert (moved.status, moved.start, moved.end) == ("confirmed", utc(7, 15), utc(7, 16, 30))


async def test_without_a_link_or_with_a_revoked_one_nothing_is_called(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    appointment = await booked(shop)
    unlinked = await mirror_appointment(
        shop.new_uow, google, SEALER, shop.tenant.id, appointment.id
    )
    linked = await link(shop, await dana(shop), "dana-grant", synced=shop.store.now)
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        await uow.google_links.save(attrs.evolve(linked, revoked_at=shop.store.now))
        await uow.commit()
    revoked = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)
    gone = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, uuid.uuid4())

    assert (unlinked, revoked, gone) == (
        (Mirrored.NOT_CONNECTED,),
        (Mirrored.RECONNECT_NEEDED,),
        (Mirrored.GONE,),
    )
    assert google.calls == []


async def test_a_grant_revoked_at_google_is_reported_not_retried(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now)
    appointment = await booked(shop)
    google.revoke_grant("dana-grant")

    put = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)
    await cancel_appointment(shop.new_uow(), shop.owner, appointment.id)
    deleted = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)

    assert (put, deleted) == ((Mirrored.RECONNECT_NEEDED,), (Mirrored.RECONNECT_NEEDED,))


async def test_google_failing_raises_for_the_outbox_to_retry(
    shop: Shop, google: FakeGoogleCalendar
) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now)
    appointment = await booked(shop)
    google.fail_next("put_event", CalendarProviderError("backendError", status=500))

    with pytest.raises(CalendarProviderError):
        await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)
    assert "nmc" + appointment.id.hex not in events_of(google, "dana-grant")


class CancelsDuringPut(FakeGoogleCalendar):
    """Google slow to answer a put while the owner cancels the appointment (and the cancel's
    own handler deletes the event before the put lands)."""

    def __init__(self, shop: Shop, appointment_id: UUID) -> None:
        super().__init__()
        self.shop, self.appointment_id = shop, appointment_id

    async def put_event(self, refresh_token: str, calendar_id: str, event: OwnEvent) -> None:
        if not self.put:
            await cancel_appointment(self.shop.new_uow(), self.shop.owner, self.appointment_id)
            await mirror_appointment(
                self.shop.new_uow, self, SEALER, self.shop.tenant.id, self.appointment_id
            )
        await super().put_event(refresh_token, calendar_id, event)


async def test_a_put_that_lands_after_the_cancellation_is_deleted_again(shop: Shop) -> None:
    await link(shop, await dana(shop), "dana-grant", synced=shop.store.now)
    appointment = await booked(shop)
    google = CancelsDuringPut(shop, appointment.id)

    done = await mirror_appointment(shop.new_uow, google, SEALER, shop.tenant.id, appointment.id)

    assert done == (Mirrored.DELETED,)
    assert events_of(google, "dana-grant")["nmc" + appointment.id.hex].status == "cancelled"
    assert google.calls == ["delete_event", "put_event", "delete_event"]
