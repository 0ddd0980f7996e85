"""Google Calendar from the outside: settings pointing at FakeGoogle, the owner's trip through
Google's consent page back to our callback, and the Google rows of the database (read past
row-level security) for assertions."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import attrs
import httpx
from cryptography.fernet import Fernet
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.google import GoogleCalendarClient
from nmc_adapters.postgres.scheduling.google_tables import google_channels, google_links
from nmc_adapters.postgres.scheduling.tables import busy_blocks
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_adapters.settings import Settings
from nmc_adapters.wire import decode_event
from nmc_domain.scheduling.events import GoogleCalendarConnected
from nmc_domain.scheduling.google_channels import google_connected
from nmc_domain.scheduling.google_poll import PollRound, poll_google_calendars
from nmc_domain.scheduling.google_sync import GoogleSynced, sync_google_calendar
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import Caller, new_tenant
from tests.support.fake_google import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, FakeGoogle

__all__ = [
    "SECRET_KEY",
    "SYNC",
    "Answers",
    "GoogleWorker",
    "Shop",
    "blocks_of",
    "channels_of",
    "consent",
    "google_client",
    "google_settings",
    "link_of",
    "new_shop",
    "next_dst_change",
    "topic_count",
]

SECRET_KEY = Fernet.generate_key().decode()
SYNC = "calendar.google_sync_requested.v1"


def google_settings(settings: Settings, fake: FakeGoogle) -> Settings:
    """`settings` with Google Calendar configured against the fake (one base URL for both)."""
    return attrs.evolve(
        settings,
        secret_key=SECRET_KEY,
        google_client_id=DEFAULT_CLIENT_ID,
        google_client_secret=DEFAULT_CLIENT_SECRET,
        google_api_base=fake.base_url,
        google_oauth_base=fake.base_url,
    )


def google_client(settings: Settings) -> GoogleCalendarClient:
    """The worker's client, as its bootstrap builds it."""
    assert settings.public_base_url is not None
    return GoogleCalendarClient(
        client_id=DEFAULT_CLIENT_ID,
        client_secret=DEFAULT_CLIENT_SECRET,
        public_base_url=settings.public_base_url,
        api_base=settings.google_api_base,
        oauth_base=settings.google_oauth_base,
    )


async def consent(
    client: AsyncTestClient, owner: Caller, technician_id: UUID, fake: FakeGoogle, user: str
) -> httpx.Response:
    """The owner's browser: our connect link, Google's consent page (`user` clicks Allow),
    and the redirect back to our callback; the callback's answer."""
    answer = await owner.get(f"/v1/technicians/{technician_id}/calendar/google/connect")
    assert answer.status_code == 200, answer.text
    fake.consenting_user = user
    async with httpx.AsyncClient() as browser:
        google = await browser.get(answer.json()["url"], follow_redirects=False)
    assert google.status_code == 302, google.text
    back = urlsplit(google.headers["location"])
    assert back.path == "/oauth/google/callback"
    return await client.get(f"{back.path}?{back.query}")


async def _rows(admin: AsyncEngine, query: Any) -> list[dict[str, Any]]:
    async with admin.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(query)]


async def link_of(admin: AsyncEngine, technician_id: UUID) -> dict[str, Any] | None:
    query = select(google_links).where(google_links.c.technician_id == technician_id)
    rows = await _rows(admin, query)
    return rows[0] if rows else None


async def channels_of(admin: AsyncEngine, technician_id: UUID) -> list[dict[str, Any]]:
    query = (
        select(google_channels)
        .where(google_channels.c.technician_id == technician_id)
        .order_by(google_channels.c.created_at)
    )
    return await _rows(admin, query)


async def blocks_of(
    admin: AsyncEngine, technician_id: UUID, source: str = "google"
) -> dict[str, tuple[datetime, datetime]]:
    query = select(busy_blocks).where(
        busy_blocks.c.technician_id == technician_id, busy_blocks.c.source == source
    )
    return {
        row["external_id"]: (row["start_at"], row["end_at"]) for row in await _rows(admin, query)
    }


async def topic_count(admin: AsyncEngine, tenant_id: UUID, topic: str) -> int:
    query = select(outbox_events.c.id).where(
        outbox_events.c.tenant_id == tenant_id, outbox_events.c.topic == topic
    )
    return len(await _rows(admin, query))


def next_dst_change(after: date, zone: ZoneInfo) -> date:
    """The first local day after `after` whose midnight-to-midnight is not 24 hours."""
    day = after
    while True:
        day += timedelta(days=1)
        start = datetime.combine(day, time(), zone)
        end = datetime.combine(day + timedelta(days=1), time(), zone)
        if end.astimezone(UTC) - start.astimezone(UTC) != timedelta(hours=24):
            return day


@attrs.define
class Answers:
    """What our webhook answered to each push the fake delivered (state, status, body)."""

    seen: list[tuple[str, int, dict[str, Any]]] = attrs.field(factory=list)

    def outcomes(self, state: str | None = None) -> list[str]:
        return [body.get("outcome", "") for s, _, body in self.seen if state in (None, s)]

    @classmethod
    def listening(cls, fake: FakeGoogle, client: AsyncTestClient) -> Answers:
        """Pushes go to the in-process app on the running loop; each answer is recorded.
        (Call the fake's `anotify`, not `notify`, from that loop.)"""
        loop = asyncio.get_running_loop()
        answers = cls()

        def deliver(address: str, headers: Mapping[str, str]) -> int:
            path = urlsplit(address).path
            posted = client.post(path, headers=dict(headers))
            response = asyncio.run_coroutine_threadsafe(posted, loop).result(timeout=10)
            state = headers["X-Goog-Resource-State"]
            answers.seen.append((state, response.status_code, response.json()))
            return response.status_code

        fake.push = deliver
        return answers


@attrs.define
class GoogleWorker:
    """The worker's side of Google Calendar: its use cases, with the client it builds."""

    new_uow: UnitOfWorkFactory
    settings: Settings
    admin: AsyncEngine
    sealer: FernetSealer = attrs.field(factory=lambda: FernetSealer(SECRET_KEY))

    async def pending(self, topic: str, kind: type) -> list[Any]:
        """The events of this topic in the outbox (any tenant)."""
        query = select(outbox_events.c.payload).where(outbox_events.c.topic == topic)
        async with self.admin.connect() as conn:
            rows = [row[0] for row in await conn.execute(query)]
        return [e for e in map(decode_event, rows) if isinstance(e, kind)]

    async def first_watch_and_sync(self, tenant_id: UUID, technician_id: UUID) -> Any:
        link = await link_of(self.admin, technician_id)
        assert link is not None
        event = GoogleCalendarConnected(tenant_id, technician_id, link["connection_id"])
        google = google_client(self.settings)
        try:
            return await google_connected(self.new_uow, google, self.sealer, event)
        finally:
            await google.aclose()

    async def sync(self, tenant_id: UUID, technician_id: UUID) -> GoogleSynced:
        google = google_client(self.settings)
        try:
            return await sync_google_calendar(
                self.new_uow, google, self.sealer, tenant_id, technician_id
            )
        finally:
            await google.aclose()

    async def poll(self) -> PollRound:
        google = google_client(self.settings)
        try:
            return await poll_google_calendars(self.new_uow, google, self.sealer)
        finally:
            await google.aclose()


@attrs.define
class Shop:
    tenant_id: UUID
    owner: Caller
    technician_id: UUID
    user: str  # the technician's Google account (its primary calendar's id)

    @property
    def calendar(self) -> str:
        return f"/v1/technicians/{self.technician_id}/calendar"


async def new_shop(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, fake: FakeGoogle, zone: str
) -> Shop:
    """A tenant, its OWNER, Dana (a technician, added through the API) and her Google
    account, whose calendar is in `zone`."""
    tenant, owner = await new_tenant(client, new_uow)
    made = await owner.post("/v1/technicians", {"name": "Dana Reyes"})
    assert made.status_code == 201, made.text
    user = fake.add_calendar(f"dana-{uuid4().hex[:8]}@gmail.example", zone)
    return Shop(tenant.id, owner, UUID(made.json()["id"]), user)
