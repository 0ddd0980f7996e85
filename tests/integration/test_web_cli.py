"""`nmc web login-link` on real PostgreSQL: a one-time link for an active user, as text or JSON,
that opens a session once; bad input is exit 2 naming the value."""

from __future__ import annotations

import asyncio
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import Result
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from nmc_domain.identity.users import add_user_for_tenant, deactivate_user_by_email
from tests.support.api import OWNER, api_settings
from tests.support.cli import clean_env, nmc_inline
from tests.support.tenants import onboard
from tests.support.web import SECRET_KEY, Browser, web_settings

BASE = "https://inbox.example.com"


@pytest.fixture(scope="module")
def env(database_url: str) -> dict[str, str]:
    return clean_env(
        NMC_DATABASE_URL=database_url, NMC_SECRET_KEY=SECRET_KEY, NMC_APP_BASE_URL=BASE
    )


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


async def cli(*args: str, env: dict[str, str]) -> Result:
    """The command in a thread: it runs its own event loop."""
    return await asyncio.to_thread(nmc_inline, *args, env=env)


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def test_a_printed_link_signs_the_owner_in_once(env, app, new_uow) -> None:
    tenant, _ = await onboard(new_uow)

    done = await cli("web", "login-link", str(tenant.id), OWNER.upper(), "--json", env=env)

    assert done.exit_code == 0, done.stderr
    link = json.loads(done.stdout.splitlines()[-1])
    assert (link["email"], link["role"]) == (OWNER, "OWNER")
    url = urlsplit(link["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{BASE}/app/login"
    human = await cli("web", "login-link", str(tenant.id), OWNER, "--ttl", "2h", env=env)
    assert human.exit_code == 0, human.stderr
    first, second = human.stdout.splitlines()
    assert first.startswith(f"{BASE}/app/login?token=")
    assert first != link["url"]
    assert second.startswith(f"(one use, for {OWNER} (OWNER), until ")
    token = parse_qs(url.query)["token"][0]
    async with Browser.on(app) as browser:
        assert (await browser.get(f"/app/login?token={token}")).status_code == 303
        assert (await browser.get("/app/conversations")).status_code == 200
        assert (await browser.get(f"/app/login?token={token}")).status_code == 400


async def test_bad_values_are_exit_2_naming_them(env, new_uow) -> None:
    tenant, _ = await onboard(new_uow)
    tech = "tech@acme-plumbing.example"
    await add_user_for_tenant(new_uow(), tenant.id, email=tech, role="TECH")
    await deactivate_user_by_email(new_uow(), tenant.id, tech)
    cases = {
        ("acme", OWNER): "tenant id 'acme' is not a UUID",
        (str(tenant.id), "nobody@acme.example"): "nobody@acme.example",
        (str(tenant.id), tech): "deactivated",
        (str(uuid.uuid4()), OWNER): OWNER,
    }
    for (tenant_id, email), expected in cases.items():
        done = await cli("web", "login-link", tenant_id, email, env=env)
        assert done.exit_code == 2, (tenant_id, email, done.stdout)
        assert expected in done.stderr, done.stderr
        assert done.stdout == ""
    for ttl in ("15", "0m", "2d", "soon"):
        done = await cli("web", "login-link", str(tenant.id), OWNER, "--ttl", ttl, env=env)
        assert done.exit_code == 2
        assert f"--ttl {ttl!r}" in done.stderr


def test_without_a_secret_key_it_says_so(database_url: str) -> None:
    env = clean_env(NMC_DATABASE_URL=database_url, NMC_APP_BASE_URL=BASE)
    done = nmc_inline("web", "login-link", str(uuid.uuid4()), OWNER, env=env)
    assert done.exit_code == 2
    assert "NMC_SECRET_KEY is not set" in done.stderr
