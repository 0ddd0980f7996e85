"""Google Calendar through the real app (bootstrap, PostgreSQL) with Google pointed at FakeGoogle
over HTTP: the consent round trip, the callback's refusals, the push webhook (a notification
that arrives before the watch call returns, wrong tokens, unknown channels, coalescing), the
status and disconnect routes; the worker's use cases run here against the same fake."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.settings import Settings
from nmc_domain.scheduling.events import (
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
)
from nmc_domain.scheduling.google_channels import (
    revoke_google_grant,
    stop_google_channel,
)
from nmc_domain.scheduling.google_ports import CalendarAccessRevoked
from nmc_domain.scheduling.oauth import issue_state
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import api_client, api_settings, new_tenant, problem, tech_of
from tests.support.fake_google import FakeGoogle
from tests.support.google_calendar import (
    SECRET_KEY,
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
    topic_count,
)

TOMORROW_10 = (datetime.now(UTC) + timedelta(days=1)).replace(
    hour=16, minute=0, second=0, microsecond=0
)


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
async def answers(fake: FakeGoogle, client: AsyncTestClient) -> Answers:
    return Answers.listening(fake, client)


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
def worker(
    new_uow: UnitOfWorkFactory, settings: Settings, admin_engine: AsyncEngine
) -> GoogleWorker:
    return GoogleWorker(new_uow, settings, admin_engine)


@pytest.fixture
async def shop(client: AsyncTestClient, new_uow: UnitOfWorkFactory, fake: FakeGoogle) -> Shop:
    return await new_shop(client, new_uow, fake, "America/Chicago")


def calendar_path(shop: Shop) -> str:
    return f"/v1/technicians/{shop.technician_id}/calendar"


async def test_connecting_is_404_where_google_is_not_configured(
    database_url: str, new_uow: UnitOfWorkFactory
) -> None:
    async with api_client(api_settings(database_url)) as bare:
        _, owner = await new_tenant(bare, new_uow)
        made = await owner.post("/v1/technicians", {"name": "Dana Reyes"})
        answer = await owner.get(f"/v1/technicians/{made.json()['id']}/calendar/google/connect")
        callback = await bare.get("/oauth/google/callback?code=4/0Aany&state=any")

    assert problem(answer, 404)["detail"] == "Google Calendar is not configured"
    assert callback.status_code == 404
    assert "not configured" in callback.text


async def test_only_an_owner_connects_a_known_technician(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, shop: Shop
) -> None:
    tech = await tech_of(client, new_uow, shop.tenant_id, "dana@acme-plumbing.example")

    assert (await tech.get(f"{calendar_path(shop)}/google/connect")).status_code == 403
    unknown = await shop.owner.get(f"/v1/technicians/{uuid.uuid4()}/calendar/google/connect")
    assert problem(unknown, 404)["detail"].startswith("no technician")
    answer = await shop.owner.get(f"{calendar_path(shop)}/google/connect")
    url = urlsplit(answer.json()["url"])
    assert url.path == "/o/oauth2/v2/auth"
    assert "state=" in url.query
    assert "access_type=offline" in url.query


async def test_the_consent_round_trip_then_a_sync_notification_before_watch_returns(
    client: AsyncTestClient,
    fake: FakeGoogle,
    shop: Shop,
    answers: Answers,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    fake.set_event(shop.user, TOMORROW_10, TOMORROW_10 + timedelta(hours=1), event_id="dentist")

    page = await consent(client, shop.owner, shop.technician_id, fake, shop.user)

    assert page.status_code == 200
    assert "Google Calendar connected for Dana Reyes" in page.text
    link = await link_of(admin_engine, shop.technician_id)
    assert link is not None
    assert link["refresh_token"].startswith("gAAAAA")  # sealed at rest
    refresh = worker.sealer.unseal(link["refresh_token"])
    assert refresh.startswith("1//0g")
    assert await topic_count(admin_engine, shop.tenant_id, "calendar.google_connected.v1") == 1

    fake.sync_before_watch_returns = True
    try:
        channel, synced = await worker.first_watch_and_sync(shop.tenant_id, shop.technician_id)
    finally:
        fake.sync_before_watch_returns = False

    # Google's `sync` reached the webhook while watch was still answering: the channel was
    # stored (and committed) before Google was asked, so it was known, not ignored.
    assert answers.seen == [("sync", 200, {"outcome": "sync"})]
    assert (channel.value, synced.result.value, synced.full) == ("opened", "synced", True)
    assert await blocks_of(admin_engine, shop.technician_id) == {
        "dentist": (TOMORROW_10, TOMORROW_10 + timedelta(hours=1))
    }
    (live,) = fake.live_channels(shop.user)
    rows = await channels_of(admin_engine, shop.technician_id)
    assert [str(r["channel_id"]) for r in rows if r["stopped_at"] is None] == [live.id]
    assert live.token is not None
    assert live.token not in str(rows)  # only its hash is stored

    status = await shop.owner.get(calendar_path(shop))
    assert status.status_code == 200
    body = status.json()
    assert (body["provider"], body["connected"], body["calendar_id"]) == ("google", True, "primary")
    assert body["last_synced_at"] is not None
    assert body["channel_expires_at"] is not None
    assert (body["drift_last"], body["drift_streak"], body["last_error"]) == (None, 0, None)


async def test_notifications_coalesce_into_one_queued_sync(
    client: AsyncTestClient,
    fake: FakeGoogle,
    shop: Shop,
    answers: Answers,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    await consent(client, shop.owner, shop.technician_id, fake, shop.user)
    await worker.first_watch_and_sync(shop.tenant_id, shop.technician_id)
    (live,) = fake.live_channels(shop.user)
    before = await topic_count(admin_engine, shop.tenant_id, SYNC)

    for _ in range(3):
        await fake.anotify(live.id, "exists")
    await fake.anotify(live.id, "not_exists")

    assert answers.outcomes("exists") == ["queued", "coalesced", "coalesced"]
    assert answers.outcomes("not_exists") == ["coalesced"]
    assert await topic_count(admin_engine, shop.tenant_id, SYNC) == before + 1
    link = await link_of(admin_engine, shop.technician_id)
    assert link is not None
    assert link["notices"] == 4
    assert link["sync_requested_at"] is not None


async def test_wrong_tokens_unknown_and_stopped_channels(
    client: AsyncTestClient,
    fake: FakeGoogle,
    shop: Shop,
    answers: Answers,
    worker: GoogleWorker,
    admin_engine: AsyncEngine,
) -> None:
    await consent(client, shop.owner, shop.technician_id, fake, shop.user)
    await worker.first_watch_and_sync(shop.tenant_id, shop.technician_id)
    (live,) = fake.live_channels(shop.user)
    before = await topic_count(admin_engine, shop.tenant_id, SYNC)
    headers = {
        "X-Goog-Channel-ID": live.id,
        "X-Goog-Channel-Token": "not-the-token",
        "X-Goog-Resource-State": "exists",
        "X-Goog-Resource-ID": live.resource_id,
        "X-Goog-Message-Number": "7",
    }

    wrong = await client.post("/webhooks/google/calendar", headers=headers)
    missing = await client.post(
        "/webhooks/google/calendar", headers={**headers, "X-Goog-Channel-Token": ""}
    )
    unknown = await client.post(
        "/webhooks/google/calendar", headers={**headers, "X-Goog-Channel-ID": str(uuid.uuid4())}
    )
    garbage = await client.post(
        "/webhooks/google/calendar", headers={**headers, "X-Goog-Channel-ID": "chan-'; DROP"}
    )
    bare = await client.post("/webhooks/google/calendar")

    assert (wrong.status_code, wrong.json()) == (403, {"outcome": "forbidden"})
    assert missing.status_code == 403
    for ignored in (unknown, garbage, bare):
        assert (ignored.status_code, ignored.json()) == (200, {"outcome": "ignored"})
    assert await topic_count(admin_engine, shop.tenant_id, SYNC) == before

    # Reconnecting stops the channel: Google may still send on it until it is stopped there.
    await consent(client, shop.owner, shop.technician_id, fake, shop.user)
    await fake.anotify(live.id, "exists")
    assert answers.outcomes("exists") == ["ignored"]


async def test_the_callback_refuses_denied_bad_used_and_expired_states(
    client: AsyncTestClient, fake: FakeGoogle, shop: Shop, admin_engine: AsyncEngine
) -> None:
    fake.consenting_user = None  # the owner clicks "Cancel" on Google's page
    answer = await shop.owner.get(f"{calendar_path(shop)}/google/connect")
    async with httpx.AsyncClient() as browser:
        denied_at_google = await browser.get(answer.json()["url"], follow_redirects=False)
    back = urlsplit(denied_at_google.headers["location"])
    denied = await client.get(f"{back.path}?{back.query}")
    forged = await client.get("/oauth/google/callback?code=4/0Aany&state=forged")
    missing = await client.get("/oauth/google/callback?code=4/0Aany")

    assert denied.status_code == 400
    assert "access was denied" in denied.text
    assert forged.status_code == 400
    assert "state" in forged.text
    assert missing.status_code == 400

    connected = await consent(client, shop.owner, shop.technician_id, fake, shop.user)
    assert connected.status_code == 200
    replayed = await client.get(f"/oauth/google/callback?{connected.request.url.query.decode()}")
    assert replayed.status_code == 400
    assert "already used" in replayed.text

    old = FernetSealer(SECRET_KEY, clock=lambda: time.time() - 601)
    stale = issue_state(old, "google", shop.tenant_id, shop.technician_id)
    code = fake.authorize(shop.user)
    expired = await client.get("/oauth/google/callback", params={"code": code, "state": stale})
    assert expired.status_code == 400
    assert "expired" in expired.text
    fresh = issue_state(FernetSealer(SECRET_KEY), "google", shop.tenant_id, shop.technician_id)
    refused = await client.get(
        "/oauth/google/callback", params={"code": "4/0Anot-a-code", "state": fresh}
    )
    assert refused.status_code == 502
    assert "<script" not in refused.text


async def test_status_for_every_role_and_disconnecting(
    client: AsyncTestClient,
    fake: FakeGoogle,
    shop: Shop,
    answers: Answers,
    worker: GoogleWorker,
    new_uow: UnitOfWorkFactory,
    admin_engine: AsyncEngine,
) -> None:
    fake.set_event(shop.user, TOMORROW_10, TOMORROW_10 + timedelta(hours=1), event_id="standup")
    tech = await tech_of(client, new_uow, shop.tenant_id, "dana@acme-plumbing.example")
    before = await tech.get(calendar_path(shop))
    assert before.json() == {
        "provider": None,
        "connected": False,
        "calendar_id": None,
        "connected_at": None,
        "last_synced_at": None,
        "channel_expires_at": None,
        "drift_last": None,
        "drift_streak": 0,
        "last_error": None,
    }
    assert problem(await shop.owner.delete(calendar_path(shop)), 404)
    await consent(client, shop.owner, shop.technician_id, fake, shop.user)
    await worker.first_watch_and_sync(shop.tenant_id, shop.technician_id)
    assert (await tech.get(calendar_path(shop))).json()["connected"] is True
    assert (await tech.delete(calendar_path(shop))).status_code == 403
    unknown = await shop.owner.get(f"/v1/technicians/{uuid.uuid4()}/calendar")
    assert problem(unknown, 404)

    gone = await shop.owner.delete(calendar_path(shop))

    assert gone.status_code == 204
    assert (await tech.get(calendar_path(shop))).json()["connected"] is False
    assert await blocks_of(admin_engine, shop.technician_id) == {}
    assert all(
        r["stopped_at"] is not None for r in await channels_of(admin_engine, shop.technician_id)
    )
    (live,) = fake.live_channels(shop.user)
    (stop,) = [
        e
        for e in await worker.pending(
            "calendar.google_channel_stop_requested.v1", GoogleChannelStopRequested
        )
        if str(e.channel_id) == live.id
    ]
    (disconnected,) = [
        e
        for e in await worker.pending("calendar.google_disconnected.v1", GoogleCalendarDisconnected)
        if e.technician_id == shop.technician_id
    ]
    google = google_client(worker.settings)
    try:
        assert await stop_google_channel(google, worker.sealer, stop)
        assert await revoke_google_grant(worker.new_uow, google, worker.sealer, disconnected)
    finally:
        await google.aclose()
    assert fake.live_channels(shop.user) == []
    refresh = worker.sealer.unseal(disconnected.refresh_token_sealed)
    probe = google_client(worker.settings)
    try:
        with pytest.raises(CalendarAccessRevoked):
            await probe.list_events(refresh, "primary")
    finally:
        await probe.aclose()
    assert problem(await shop.owner.delete(calendar_path(shop)), 404)
