"""The inbound sync on PostgreSQL against FakeGoogle over HTTP: 410 in the middle of paging, a
cancelled instance of a recurring event, an all-day event across the next DST change, a
Google 500 during the sync (the shadow rows kept), drift counted on a poll that finds changes
no notification announced, and a channel renewed a day before it expires."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.scheduling.google_tables import google_links
from nmc_adapters.settings import Settings
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    GoogleChannelStopRequested,
)
from nmc_domain.scheduling.google_channels import stop_google_channel
from nmc_domain.scheduling.google_ports import CalendarProviderError
from nmc_domain.scheduling.google_sync import sync_google_calendar
from nmc_domain.scheduling.settings import SchedulingSettings
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.google_calendar import mirror_handler
from tests.support.api import add_item, api_client, api_settings
from tests.support.fake_google import FakeGoogle
from tests.support.google_calendar import (
    SYNC,
    Answers,
    GoogleWorker,
    Shop,
    blocks_of,
    channels_of,
    consent,
    google_client,
    google_settings,
    link_of,
    new_shop,
    next_dst_change,
    topic_count,
)
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, sign

CHICAGO = ZoneInfo("America/Chicago")
EVENTS = "/calendar/v3/calendars/"
SMS = "/webhooks/twilio/sms"


def tomorrow_at(hour: int, days: int = 1) -> datetime:
    """A whole hour (Chicago) `days` from today: inside the sync window."""
    day = datetime.now(CHICAGO).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO).astimezone(UTC)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(database_url: str, fake: FakeGoogle) -> Settings:
    return google_settings(api_settings(database_url), fake)


@pytest.fixture(scope="module")
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with api_client(settings) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
def worker(
    new_uow: UnitOfWorkFactory, settings: Settings, admin_engine: AsyncEngine
) -> GoogleWorker:
    return GoogleWorker(new_uow, settings, admin_engine)


@pytest.fixture
async def answers(fake: FakeGoogle, client: AsyncTestClient) -> Answers:
    return Answers.listening(fake, client)


async def connected(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    fake: FakeGoogle,
    worker: GoogleWorker,
    *,
    horizon_days: int = 14,
    before: Any = None,
) -> Shop:
    """Dana's calendar connected, watched and synced once (`before` fills it first)."""
    shop = await new_shop(client, new_uow, fake, "America/Chicago")
    async with new_uow() as uow:
        await uow.bind_tenant(shop.tenant_id)
        await uow.scheduling_settings.save(
            SchedulingSettings(shop.tenant_id, horizon_days=horizon_days)
        )
        await uow.commit()
    if before is not None:
        before(shop)
    page = await consent(client, shop.owner, shop.technician_id, fake, shop.user)
    assert page.status_code == 200, page.text
    channel, synced = await worker.first_watch_and_sync(shop.tenant_id, shop.technician_id)
    assert (channel.value, synced.result.value) == ("opened", "synced")
    return shop


async def test_410_in_the_middle_of_paging_wipes_and_resyncs_the_window(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    fake: FakeGoogle,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    def five_jobs(shop: Shop) -> None:
        for n in range(5):
            start = tomorrow_at(8 + n)
            fake.set_event(shop.user, start, start + timedelta(hours=1), event_id=f"job{n}")

    shop = await connected(client, new_uow, fake, worker, before=five_jobs)
    fake.set_event(shop.user, tomorrow_at(15), tomorrow_at(16), event_id="job5")
    fake.cancel_event(shop.user, "job0")
    fake.set_event(shop.user, tomorrow_at(10, 2), tomorrow_at(11, 2), event_id="job1")
    fake.page_size = 1
    google = google_client(worker.settings)
    list_events = google.list_events
    asked: list[bool] = []

    async def forgetting_after_the_first_page(*args: Any, **kw: Any) -> Any:
        asked.append(kw.get("sync_token") is not None)
        if asked == [True, True]:  # Google forgets our sync state while we page
            fake.invalidate_sync_tokens(shop.user)
        return await list_events(*args, **kw)

    google.list_events = forgetting_after_the_first_page  # type: ignore[method-assign]
    try:
        synced = await sync_google_calendar(
            worker.new_uow, google, worker.sealer, shop.tenant_id, shop.technician_id
        )
    finally:
        fake.page_size = 250
        await google.aclose()

    assert asked[:3] == [True, True, False]  # 410 on the second page, then the full window
    assert (synced.result.value, synced.full) == ("synced", True)
    blocks = await blocks_of(admin_engine, shop.technician_id)
    assert set(blocks) == {"job1", "job2", "job3", "job4", "job5"}
    assert blocks["job1"] == (tomorrow_at(10, 2), tomorrow_at(11, 2))


async def test_a_cancelled_instance_of_a_recurring_event_frees_its_time(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    fake: FakeGoogle,
    worker: GoogleWorker,
    answers: Answers,
    admin_engine: AsyncEngine,
) -> None:
    instances: list[str] = []

    def daily_standup(shop: Shop) -> None:
        instances.extend(
            fake.add_recurring(
                shop.user, tomorrow_at(9), timedelta(minutes=30), 3, every=timedelta(days=1)
            )
        )

    shop = await connected(client, new_uow, fake, worker, before=daily_standup)
    assert set(await blocks_of(admin_engine, shop.technician_id)) == set(instances)

    fake.cancel_event(shop.user, instances[1])
    (live,) = fake.live_channels(shop.user)
    await fake.anotify(live.id)
    synced = await worker.sync(shop.tenant_id, shop.technician_id)

    assert answers.outcomes("exists") == ["queued"]
    assert (synced.full, synced.changed, synced.drift) == (False, 1, None)
    assert set(await blocks_of(admin_engine, shop.technician_id)) == {instances[0], instances[2]}


async def test_an_all_day_event_across_the_next_dst_change(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    fake: FakeGoogle,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    change = next_dst_change(datetime.now(CHICAGO).date(), CHICAGO)
    after = change + timedelta(days=1)

    def holiday(shop: Shop) -> None:
        fake.set_event(shop.user, change, after, event_id="clocksmove")

    shop = await connected(client, new_uow, fake, worker, horizon_days=365, before=holiday)

    start, end = (await blocks_of(admin_engine, shop.technician_id))["clocksmove"]
    assert start == datetime(change.year, change.month, change.day, tzinfo=CHICAGO)
    assert end == datetime(after.year, after.month, after.day, tzinfo=CHICAGO)
    assert end - start in (timedelta(hours=23), timedelta(hours=25))
    link = await link_of(admin_engine, shop.technician_id)
    assert link is not None
    assert link["zone"] == "America/Chicago"


async def test_a_google_500_during_the_sync_keeps_every_shadow_row(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    fake: FakeGoogle,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    def standup(shop: Shop) -> None:
        fake.set_event(shop.user, tomorrow_at(9), tomorrow_at(10), event_id="standup")

    shop = await connected(client, new_uow, fake, worker, before=standup)
    before = await blocks_of(admin_engine, shop.technician_id)
    fake.cancel_event(shop.user, "standup")
    fake.fail_next(1, 500, path=EVENTS, method="GET")

    with pytest.raises(CalendarProviderError):
        await worker.sync(shop.tenant_id, shop.technician_id)

    assert await blocks_of(admin_engine, shop.technician_id) == before
    link = await link_of(admin_engine, shop.technician_id)
    assert link is not None
    assert "500" in link["last_sync_error"]
    status = (await shop.owner.get(shop.calendar)).json()
    assert "500" in status["last_error"]
    synced = await worker.sync(shop.tenant_id, shop.technician_id)  # the outbox's retry
    assert synced.result.value == "synced"
    assert await blocks_of(admin_engine, shop.technician_id) == {}
    assert (await shop.owner.get(shop.calendar)).json()["last_error"] is None


async def test_a_poll_that_finds_unannounced_changes_counts_them_as_drift(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    fake: FakeGoogle,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    shop = await connected(client, new_uow, fake, worker)
    fake.set_event(shop.user, tomorrow_at(9), tomorrow_at(10), event_id="lostnotice1")
    fake.set_event(shop.user, tomorrow_at(13), tomorrow_at(14), event_id="lostnotice2")
    before = await topic_count(admin_engine, shop.tenant_id, SYNC)

    polled = await worker.poll()
    again = await worker.poll()  # coalesced into the queued one

    assert polled.queued >= 1
    assert polled.failures == ()
    assert await topic_count(admin_engine, shop.tenant_id, SYNC) == before + 1
    assert again.failures == ()
    synced = await worker.sync(shop.tenant_id, shop.technician_id)
    assert (synced.drift, synced.drift_streak) == (2, 1)
    body = (await shop.owner.get(shop.calendar)).json()
    assert (body["drift_last"], body["drift_streak"]) == (2, 1)
    quiet = await worker.sync(shop.tenant_id, shop.technician_id)
    assert (quiet.drift, quiet.drift_streak) == (0, 0)


async def test_a_channel_is_renewed_a_day_before_it_expires_and_the_old_one_stopped(
    client: AsyncTestClient,
    new_uow: UnitOfWorkFactory,
    settings: Settings,
    admin_engine: AsyncEngine,
) -> None:
    # Google's clock runs six and a half days behind: its seven-day channels end in 12 hours.
    with FakeGoogle(clock=lambda: time.time() - 6.5 * 86400) as late:
        ours = google_settings(settings, late)
        worker = GoogleWorker(new_uow, ours, admin_engine)
        async with api_client(ours) as app:
            shop = await connected(app, new_uow, late, worker)
            (first,) = late.live_channels(shop.user)

            polled = await worker.poll()

            assert polled.channels.get("opened", 0) >= 1
            (renewed,) = [c for c in late.live_channels(shop.user) if c.id != first.id]
            link = await link_of(admin_engine, shop.technician_id)
            assert link is not None
            assert str(link["channel_id"]) == renewed.id
            stored = await channels_of(admin_engine, shop.technician_id)
            rows = {str(r["channel_id"]): r for r in stored}
            assert rows[first.id]["stopped_at"] is not None
            stops = await worker.pending(
                "calendar.google_channel_stop_requested.v1", GoogleChannelStopRequested
            )
            (stop,) = [s for s in stops if str(s.channel_id) == first.id]
            google = google_client(ours)
            try:
                assert await stop_google_channel(google, worker.sealer, stop)
            finally:
                await google.aclose()
            assert [c.id for c in late.live_channels(shop.user)] == [renewed.id]


ALL_WEEK = {
    "periods": [
        {"weekday": day, "start": "00:00", "end": "24:00"}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
}


async def test_an_appointment_is_one_event_in_the_calendar_and_never_its_own_busy_block(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, fake: FakeGoogle, worker: GoogleWorker
) -> None:
    shop = await connected(client, new_uow, fake, worker)
    item = await add_item(shop.owner, "Water heater flush", duration_minutes=90)
    assert (await shop.owner.put("/v1/business-hours", ALL_WEEK)).status_code == 200
    start = tomorrow_at(10)
    hold = await shop.owner.post(
        "/v1/holds",
        {
            "item_id": item["id"],
            "technician_id": str(shop.technician_id),
            "start": start.isoformat(),
            "contact_phone": "+14155550123",
        },
    )
    assert hold.status_code == 201, hold.text
    appointment_id = hold.json()["hold_id"]
    assert (await shop.owner.post("/v1/appointments", {"hold_id": appointment_id})).is_success
    [booked] = [
        e
        for e in await worker.pending("appointment.booked.v1", AppointmentBooked)
        if str(e.appointment_id) == appointment_id
    ]
    google = google_client(worker.settings)
    mirror = mirror_handler(new_uow, google, worker.sealer)
    try:
        await mirror(booked)
        await mirror(booked)  # a retry of the same row
        event_id = "nmc" + UUID(appointment_id).hex
        [ours] = [e for e in fake.events(shop.user) if e["id"] == event_id]
        assert ours["summary"] == "Water heater flush (NeverMissCall)"
        assert datetime.fromisoformat(ours["start"]["dateTime"]) == start
        assert datetime.fromisoformat(ours["end"]["dateTime"]) == start + timedelta(minutes=90)
        inserts = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/events")]
        assert len(inserts) == 2  # the second answered 409 and became an update
        assert len(fake.events(shop.user)) == 1

        # Our own event comes back through the inbound sync: no busy block over the job.
        await worker.sync(shop.tenant_id, shop.technician_id)
        assert await blocks_of(worker.admin, shop.technician_id) == {}

        canceled = await shop.owner.post(f"/v1/appointments/{appointment_id}/cancel", {})
        assert canceled.status_code == 200, canceled.text
        [cancel] = [
            e
            for e in await worker.pending("appointment.canceled.v1", AppointmentCanceled)
            if str(e.appointment_id) == appointment_id
        ]
        await mirror(cancel)
    finally:
        await google.aclose()
    assert fake.events(shop.user) == []
    assert fake.event(shop.user, event_id)["status"] == "cancelled"  # type: ignore[index]


async def test_an_sms_reply_skips_the_times_a_stale_calendar_is_busy(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, fake: FakeGoogle, worker: GoogleWorker
) -> None:
    shop = await connected(client, new_uow, fake, worker)
    await add_item(shop.owner, "Water heater flush", duration_minutes=90, aliases=["water heater"])
    assert (await shop.owner.put("/v1/business-hours", ALL_WEEK)).status_code == 200
    async with new_uow() as uow:
        await uow.bind_tenant(shop.tenant_id)
        [number] = await uow.numbers.of_tenant(shop.tenant_id)
    # Dana books the next twelve hours in her own calendar; no notification comes.
    now = datetime.now(UTC).replace(microsecond=0)
    busy_until = now + timedelta(hours=12)
    fake.set_event(shop.user, now, busy_until, summary="Dentist")

    async def offered_to(caller: str) -> list[datetime]:
        params = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": "SM" + uuid4().hex,
            "From": caller,
            "To": number,
            "Body": "my water heater is leaking",
            "NumMedia": "0",
        }
        signature = sign(PUBLIC_BASE_URL + SMS, params)
        answered = await client.post(SMS, data=params, headers={"X-Twilio-Signature": signature})
        assert answered.status_code == 200, answered.text
        async with new_uow() as uow:
            await uow.bind_tenant(shop.tenant_id)
            conversation = await uow.conversations.active(shop.tenant_id, caller)
        assert conversation is not None
        return sorted(offer.start for offer in conversation.memory.offers)

    def free_busy_calls() -> int:
        return len([r for r in fake.requests if r.path.endswith("/freeBusy")])

    # Synced moments ago: the shadow rows are trusted (they do not know the dentist yet).
    fresh = await offered_to("+14155550171")
    assert fresh
    assert fresh[0] < busy_until
    assert free_busy_calls() == 0

    # Synced five minutes ago: Google is asked once, and no busy time is offered.
    async with worker.admin.begin() as conn:
        await conn.execute(
            google_links.update()
            .where(google_links.c.technician_id == shop.technician_id)
            .values(last_synced_at=now - timedelta(minutes=5))
        )
    requested = await topic_count(worker.admin, shop.tenant_id, SYNC)
    stale = await offered_to("+14155550172")
    assert stale
    assert all(start >= busy_until for start in stale), stale
    assert free_busy_calls() == 1
    assert await topic_count(worker.admin, shop.tenant_id, SYNC) == requested + 1
