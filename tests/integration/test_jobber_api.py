"""Jobber through the real app (bootstrap, PostgreSQL) with Jobber pointed at FakeJobber:
connecting (the consent link, the browser's callback with a signed single-use state), the
connection's status, disconnecting, and Jobber's webhooks (HMAC over the raw body, each
notification stored once, routed by account, never calling Jobber)."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.shared.tables import webhook_events
from nmc_adapters.settings import Settings
from nmc_api.bootstrap import build_app
from nmc_domain.scheduling.jobber import JOBBER, BlockChanges
from nmc_domain.scheduling.model import BusyBlock, new_technician
from nmc_worker.bootstrap import build_worker
from nmc_worker.handlers import retry_policies
from tests.support.api import api_settings, new_tenant, problem, tech_of
from tests.support.billing import topic_payloads
from tests.support.fake_jobber import FakeJobber, signed_webhook
from tests.support.jobber import (
    SECRET_KEY,
    Block,
    connect,
    consent_redirect,
    jobber_blocks,
    jobber_settings,
    link_row,
    post_webhook,
)
from tests.support.waiting import eventually, running

SYNC = "calendar.jobber_sync_requested.v1"
ITEM = "calendar.jobber_item_changed.v1"
WHEN = "2026-01-05T09:30:00-06:00"
FAST_RETRIES = retry_policies(base_seconds=0.01, cap_seconds=0.05)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeJobber]:
    with FakeJobber() as fake:
        yield fake


@pytest.fixture(scope="module")
def settings(database_url: str, fake: FakeJobber) -> Settings:
    return jobber_settings(api_settings(database_url), fake)


class Clock:
    """Seconds since the epoch for the app's sealer, moved by the test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return datetime.now(UTC).timestamp() + self.offset


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:
    app = build_app(settings, sealer=FernetSealer(SECRET_KEY, clock=clock))
    async with AsyncTestClient(app, base_url="http://10.0.0.7:8000") as client:
        yield client


@pytest.fixture(scope="module")
async def unconfigured(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(build_app(api_settings(database_url))) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def stored_webhooks(admin_engine: AsyncEngine, key_part: str) -> int:
    query = (
        select(func.count())
        .select_from(webhook_events)
        .where(webhook_events.c.provider == JOBBER, webhook_events.c.event_key.contains(key_part))
    )
    async with admin_engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_connecting_stores_the_tokens_sealed_and_queues_a_first_sync(
    client: AsyncTestClient, fake: FakeJobber, new_uow, admin_engine: AsyncEngine
) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    account = fake.add_account("ACME Plumbing (Jobber)")

    response = await owner.get("/v1/integrations/jobber/connect")
    query = parse_qs(urlsplit(response.json()["url"]).query)
    assert query["redirect_uri"] == ["https://nmc.example.com/oauth/jobber/callback"]
    assert query["response_type"] == ["code"]
    await connect(client, owner, fake, account)

    row = await link_row(admin_engine, tenant.id)
    assert row is not None
    assert row["account_id"] == account
    sealer = FernetSealer(SECRET_KEY)
    access = sealer.unseal(row["access_token"])
    assert access.count(".") == 2
    assert access not in json.dumps(row, default=str).replace(row["access_token"], "")
    assert row["access_expires_at"] > datetime.now(UTC) + timedelta(minutes=50)
    assert await topic_payloads(admin_engine, tenant.id, SYNC) == [
        {"type": SYNC, "tenant_id": str(tenant.id), "reason": "connected"}
    ]

    status = await owner.get("/v1/integrations/jobber")
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["connected"] is True
    assert body["account_id"] == account
    assert body["account_name"] == "ACME Plumbing (Jobber)"
    assert body["last_synced_at"] is None
    assert body["last_drift"] is None
    assert body["reconnect_needed"] is False


async def test_a_state_works_once(client: AsyncTestClient, fake: FakeJobber, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    account = fake.add_account()
    callback = await consent_redirect(owner, fake, account)
    assert (await client.get(callback)).status_code == 200
    again = await client.get(callback)
    assert again.status_code == 400
    assert "already used" in again.text


async def test_an_expired_or_forged_state_is_refused(
    client: AsyncTestClient, fake: FakeJobber, new_uow, clock: Clock
) -> None:
    _, owner = await new_tenant(client, new_uow)
    account = fake.add_account()
    callback = await consent_redirect(owner, fake, account)
    clock.offset = 11 * 60  # the state lives ten minutes
    try:
        late = await client.get(callback)
    finally:
        clock.offset = 0.0
    assert late.status_code == 400
    assert "expired" in late.text
    forged = await client.get(f"/oauth/jobber/callback?code={fake.authorize(account)}&state=nope")
    assert forged.status_code == 400
    assert "state" in forged.text


async def test_a_refused_consent_says_so(client: AsyncTestClient) -> None:
    # Jobber sends the browser back without any parameter when the owner refuses.
    for path in ("/oauth/jobber/callback", "/oauth/jobber/callback?error=access_denied"):
        response = await client.get(path)
        assert response.status_code == 400
        assert "did not grant access" in response.text
        assert response.headers["content-type"].startswith("text/html")


async def test_a_code_jobber_refuses_is_a_clear_page(
    client: AsyncTestClient, fake: FakeJobber, new_uow
) -> None:
    _, owner = await new_tenant(client, new_uow)
    callback = await consent_redirect(owner, fake, fake.add_account())
    spent = urlsplit(callback)
    query = parse_qs(spent.query)
    response = await client.get(f"{spent.path}?code=not-a-code&state={query['state'][0]}")
    assert response.status_code == 502
    assert "start connecting again" in response.text


async def test_an_account_is_one_business_s(
    client: AsyncTestClient, fake: FakeJobber, new_uow
) -> None:
    account = fake.add_account()
    _, acme = await new_tenant(client, new_uow)
    _, bright = await new_tenant(client, new_uow, "BRIGHT-SPARK")
    await connect(client, acme, fake, account)
    response = await client.get(await consent_redirect(bright, fake, account))
    assert response.status_code == 409
    assert "another business" in response.text


async def test_only_owners_reach_the_jobber_routes(client: AsyncTestClient, new_uow) -> None:
    tenant, _ = await new_tenant(client, new_uow)
    tech = await tech_of(client, new_uow, tenant.id, "tech@acme-plumbing.example")
    for response in (
        await tech.get("/v1/integrations/jobber/connect"),
        await tech.get("/v1/integrations/jobber"),
        await tech.delete("/v1/integrations/jobber"),
    ):
        problem(response, 403)


async def test_not_connected_is_404(client: AsyncTestClient, new_uow) -> None:
    _, owner = await new_tenant(client, new_uow)
    problem(await owner.get("/v1/integrations/jobber"), 404)
    problem(await owner.delete("/v1/integrations/jobber"), 404)


async def test_without_jobber_settings_every_jobber_route_is_404(
    unconfigured: AsyncTestClient, new_uow
) -> None:
    _, owner = await new_tenant(unconfigured, new_uow)
    for response in (
        await owner.get("/v1/integrations/jobber/connect"),
        await owner.get("/v1/integrations/jobber"),
        await owner.delete("/v1/integrations/jobber"),
    ):
        assert "Jobber is not configured" in problem(response, 404)["detail"]
    assert (await unconfigured.get("/oauth/jobber/callback?code=x&state=y")).status_code == 404
    body, headers = signed_webhook("VISIT_UPDATE", "V", "A", WHEN)
    assert (
        await unconfigured.post("/webhooks/jobber", content=body, headers=headers)
    ).status_code == 404


async def test_disconnecting_forgets_the_link_its_routing_and_its_blocks(
    client: AsyncTestClient, fake: FakeJobber, new_uow, admin_engine: AsyncEngine
) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    account = fake.add_account()
    await connect(client, owner, fake, account)
    rosa = new_technician(tenant_id=tenant.id, name="Rosa", email="rosa@acme-plumbing.example")
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    manual = BusyBlock(uuid.uuid4(), tenant.id, rosa.id, start, start + timedelta(hours=1))
    visit = BusyBlock(
        uuid.uuid4(), tenant.id, rosa.id, start, start + timedelta(hours=2), JOBBER, "VISIT-1"
    )
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.technicians.add(rosa)
        await uow.busy_blocks.add(manual)
        await uow.jobber_blocks.apply(
            tenant.id, BlockChanges(added=(visit,), jobs={"VISIT-1": "J"})
        )
        await uow.commit()

    response = await owner.delete("/v1/integrations/jobber")
    assert response.status_code == 204, response.text
    assert await link_row(admin_engine, tenant.id) is None
    assert await jobber_blocks(admin_engine, tenant.id) == []
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        kept = await uow.busy_blocks.page(tenant.id, None, 10)
    assert [b.id for b in kept] == [manual.id]
    assert account in fake.disconnected  # Jobber was told (appDisconnect)
    later = await post_webhook(client, "VISIT_UPDATE", "VISIT-1", account, WHEN)
    assert later.json() == {"outcome": "unknown_account"}


async def test_webhooks_are_stored_once_and_queue_a_read(
    client: AsyncTestClient, fake: FakeJobber, new_uow, admin_engine: AsyncEngine
) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    account = fake.add_account()
    await connect(client, owner, fake, account)
    asked = len(fake.requests)
    visit = f"VISIT-{uuid.uuid4().hex[:8]}"

    first = await post_webhook(client, "VISIT_UPDATE", visit, account, WHEN)
    assert first.status_code == 200
    assert first.json() == {"outcome": "queued"}
    # Jobber re-sends it, with the same time written another way: one row, one read.
    again = await post_webhook(client, "VISIT_UPDATE", visit, account, "2026-01-05T15:30:00Z")
    assert again.json() == {"outcome": "duplicate"}
    other = await post_webhook(client, "VISIT_UPDATE", visit, account, "2026-01-05T15:31:00Z")
    assert other.json() == {"outcome": "queued"}
    ignored = await post_webhook(client, "CLIENT_CREATE", "CLIENT-1", account, WHEN)
    assert ignored.json() == {"outcome": "ignored"}

    assert await stored_webhooks(admin_engine, visit) == 2
    items = await topic_payloads(admin_engine, tenant.id, ITEM)
    assert [(p["topic"], p["item_id"], p["occurred_at"]) for p in items] == [
        ("VISIT_UPDATE", visit, "2026-01-05T09:30:00-06:00"),
        ("VISIT_UPDATE", visit, "2026-01-05T15:31:00+00:00"),
    ]
    assert len(fake.requests) == asked  # the webhook never calls Jobber


async def test_a_bad_signature_is_401_and_nothing_is_stored(
    client: AsyncTestClient, fake: FakeJobber, new_uow, admin_engine: AsyncEngine
) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    account = fake.add_account()
    await connect(client, owner, fake, account)
    visit = f"VISIT-{uuid.uuid4().hex[:8]}"
    body, headers = signed_webhook("VISIT_UPDATE", visit, account, WHEN, secret="not-ours")
    forged = await client.post("/webhooks/jobber", content=body, headers=headers)
    assert forged.status_code == 401
    unsigned = await client.post(
        "/webhooks/jobber", content=body, headers={"Content-Type": "application/json"}
    )
    assert unsigned.status_code == 401
    # A valid signature of other bytes: the body was altered on the way.
    _, valid = signed_webhook("VISIT_UPDATE", visit, account, WHEN)
    altered = body.replace(b"VISIT_UPDATE", b"VISIT_DESTROY")
    assert (
        await client.post("/webhooks/jobber", content=altered, headers=valid)
    ).status_code == 401
    assert await stored_webhooks(admin_engine, visit) == 0
    assert await topic_payloads(admin_engine, tenant.id, ITEM) == []


async def test_unknown_accounts_are_ignored(client: AsyncTestClient) -> None:
    response = await post_webhook(client, "VISIT_CREATE", "VISIT-X", "NOBODY-ACCOUNT", WHEN)
    assert response.status_code == 200
    assert response.json() == {"outcome": "unknown_account"}


async def test_malformed_and_oversized_bodies_are_refused(client: AsyncTestClient) -> None:
    from nmc_adapters.jobber import jobber_signature
    from tests.support.fake_jobber import CLIENT_SECRET

    body = b'{"data": {"webHookEvent": {"topic": "VISIT_UPDATE"}}}'
    headers = {"X-Jobber-Hmac-SHA256": jobber_signature(CLIENT_SECRET, body)}
    malformed = await client.post("/webhooks/jobber", content=body, headers=headers)
    assert malformed.status_code == 400
    big = b"{" + b" " * (70 * 1024) + b"}"
    headers = {"X-Jobber-Hmac-SHA256": jobber_signature(CLIENT_SECRET, big)}
    assert (await client.post("/webhooks/jobber", content=big, headers=headers)).status_code == 413


async def test_end_to_end_a_worker_mirrors_jobbers_visits_after_connect_and_webhooks(
    client: AsyncTestClient,
    fake: FakeJobber,
    settings: Settings,
    new_uow,
    admin_engine: AsyncEngine,
) -> None:
    tenant, owner = await new_tenant(client, new_uow)
    created = await owner.post(
        "/v1/technicians", {"name": "Rosa", "email": "Rosa@ACME-Plumbing.example"}
    )
    assert created.status_code == 201, created.text
    account = fake.add_account()
    visit, job = fake.new_id("Visit"), fake.new_id("Job")
    day = datetime.now(UTC).replace(hour=15, minute=0, second=0, microsecond=0)
    start = day + timedelta(days=2)  # 9 am in Chicago, two days out
    fake.put_visit(
        account,
        visit,
        job_id=job,
        start=start,
        end=start + timedelta(hours=2),
        emails=("rosa@acme-plumbing.example",),
    )
    await connect(client, owner, fake, account)

    async def blocks() -> list[Block]:
        return await jobber_blocks(admin_engine, tenant.id)

    worker = build_worker(settings, policies=FAST_RETRIES, rng=random.Random(7))
    async with running(worker):
        first = [Block("Rosa", visit, start, start + timedelta(hours=2))]
        await eventually(lambda: _equal(blocks, first), within=15)
        later = start + timedelta(hours=3)
        fake.put_visit(
            account,
            visit,
            job_id=job,
            start=later,
            end=later + timedelta(hours=1),
            emails=("rosa@acme-plumbing.example",),
        )
        sent = await post_webhook(
            client, "VISIT_UPDATE", visit, account, datetime.now(UTC).isoformat()
        )
        assert sent.json() == {"outcome": "queued"}
        moved = [Block("Rosa", visit, later, later + timedelta(hours=1))]
        await eventually(lambda: _equal(blocks, moved), within=15)
    status = (await owner.get("/v1/integrations/jobber")).json()
    assert status["last_synced_at"] is not None


async def _equal(read, expected) -> bool:  # type: ignore[no-untyped-def]
    return await read() == expected
