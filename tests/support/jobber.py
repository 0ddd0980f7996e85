"""Jobber from the outside: settings pointing at FakeJobber, the owner's trip through Jobber's
consent page and back to our callback, webhooks posted signed, and the tenant's Jobber rows
(read past row-level security) for assertions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import attrs
import httpx
from cryptography.fernet import Fernet
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.jobber import JobberClient
from nmc_adapters.postgres.scheduling.jobber_tables import jobber_links
from nmc_adapters.postgres.scheduling.tables import busy_blocks, technicians
from nmc_adapters.settings import Settings
from nmc_domain.scheduling.jobber_connect import JobberSetup
from tests.support.api import Caller
from tests.support.fake_jobber import CLIENT_ID, CLIENT_SECRET, FakeJobber, signed_webhook
from tests.support.twilio import PUBLIC_BASE_URL

__all__ = [
    "SECRET_KEY",
    "Block",
    "connect",
    "jobber_blocks",
    "jobber_settings",
    "jobber_setup",
    "link_row",
    "post_webhook",
]

SECRET_KEY = Fernet.generate_key().decode()  # NMC_SECRET_KEY of the tests' apps and workers
WEBHOOK = "/webhooks/jobber"


def jobber_settings(settings: Settings, fake: FakeJobber) -> Settings:
    """`settings` with Jobber pointed at the fake (and the key that seals its tokens)."""
    return attrs.evolve(
        settings,
        secret_key=SECRET_KEY,
        jobber_client_id=CLIENT_ID,
        jobber_client_secret=CLIENT_SECRET,
        jobber_api_base=fake.base_url,
        jobber_oauth_base=fake.base_url,
    )


def jobber_setup(fake: FakeJobber, **client: Any) -> JobberSetup:
    """What a worker builds from those settings (the caller closes `setup.api`)."""
    api = JobberClient(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        public_base_url=PUBLIC_BASE_URL,
        api_base=fake.base_url,
        oauth_base=fake.base_url,
        **client,
    )
    return JobberSetup(api, FernetSealer(SECRET_KEY))


async def consent_redirect(owner: Caller, fake: FakeJobber, account_id: str) -> str:
    """The owner asks to connect, "allows access" on the fake's consent page, and is sent
    back: the callback's path and query, as the browser would request them."""
    response = await owner.get("/v1/integrations/jobber/connect")
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    assert url.startswith(fake.base_url + "/api/oauth/authorize?")
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(url + f"&account={account_id}", follow_redirects=False)
    assert consent.status_code == 302
    back = urlsplit(consent.headers["location"])
    assert f"{back.scheme}://{back.netloc}" == PUBLIC_BASE_URL
    return f"{back.path}?{back.query}"


async def connect(
    client: AsyncTestClient, owner: Caller, fake: FakeJobber, account_id: str
) -> None:
    callback = await consent_redirect(owner, fake, account_id)
    response = await client.get(callback)
    assert response.status_code == 200, response.text
    assert "Jobber connected" in response.text


async def post_webhook(
    client: AsyncTestClient,
    topic: str,
    item_id: str,
    account_id: str,
    occurred_at: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    body, signed = signed_webhook(topic, item_id, account_id, occurred_at)
    return await client.post(WEBHOOK, content=body, headers={**signed, **(headers or {})})


@attrs.frozen(order=True)
class Block:
    """A Jobber busy block as the tests compare them: whose, which visit, when."""

    technician: str
    visit_id: str
    start: datetime
    end: datetime


async def jobber_blocks(admin_engine: AsyncEngine, tenant_id: UUID) -> list[Block]:
    """The tenant's Jobber blocks, by technician name."""
    b, t = busy_blocks.c, technicians.c
    query = (
        select(t.name, b.external_id, b.start_at, b.end_at)
        .select_from(
            busy_blocks.join(technicians, (t.tenant_id == b.tenant_id) & (t.id == b.technician_id))
        )
        .where(b.tenant_id == tenant_id, b.source == "jobber")
    )
    async with admin_engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return sorted(Block(*row) for row in rows)


async def link_row(admin_engine: AsyncEngine, tenant_id: UUID) -> Mapping[str, Any] | None:
    """The tenant's jobber_links row as stored (sealed tokens and all)."""
    query = select(jobber_links).where(jobber_links.c.tenant_id == tenant_id)
    async with admin_engine.connect() as conn:
        row = (await conn.execute(query)).one_or_none()
    return None if row is None else dict(row._mapping)
