"""Signing in to the web inbox on real PostgreSQL: a one-time login link opens a session
(HttpOnly, SameSite=Lax cookie, sealed again on each page); an expired, altered or reused link
is refused; a deactivated user is signed out at once; a form post without the CSRF token is
refused; without NMC_SECRET_KEY there is no inbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import attrs
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from nmc_domain.identity.users import add_user_for_tenant, deactivate_user_by_email
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, api_client, api_settings
from tests.support.tenants import onboard
from tests.support.web import Browser, login_token, web_settings


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        yield browser


async def test_a_login_link_opens_a_session_once(browser: Browser, new_uow) -> None:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    token = await login_token(new_uow, tenant.id, OWNER)

    before = await browser.get("/app/conversations")
    assert before.status_code == 401
    assert "sign in" in before.text.lower()

    opened = await browser.get(f"/app/login?token={token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/app/conversations"
    cookie = opened.headers["set-cookie"]
    assert "nmc_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" in cookie  # NMC_PUBLIC_BASE_URL is https here

    page = await browser.get("/app/conversations")
    assert page.status_code == 200
    assert "ACME-PLUMBING" in page.text
    assert "nmc_session=" in page.headers["set-cookie"]  # sealed again: the idle clock restarts

    async with Browser.on(browser.client.app) as other:
        reused = await other.get(f"/app/login?token={token}")
        assert reused.status_code == 400
        assert "already used" in reused.text
        assert (await other.get("/app/conversations")).status_code == 401


async def test_an_expired_or_altered_link_is_refused(browser: Browser, new_uow) -> None:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    expired = await login_token(new_uow, tenant.id, OWNER, ttl=timedelta(microseconds=1))
    token = await login_token(new_uow, tenant.id, OWNER)

    assert (await browser.get(f"/app/login?token={expired}")).status_code == 400
    assert (await browser.get(f"/app/login?token={token[:-4]}AAAA")).status_code == 400
    assert (await browser.get("/app/login")).status_code == 400
    assert (await browser.get("/app/conversations")).status_code == 401


async def test_a_deactivated_user_is_signed_out_at_once(browser: Browser, new_uow) -> None:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    tech = "tech@acme-plumbing.example"
    await add_user_for_tenant(new_uow(), tenant.id, email=tech, role="TECH")
    await browser.sign_in(new_uow, tenant.id, tech)
    assert (await browser.get("/app/conversations")).status_code == 200

    await deactivate_user_by_email(new_uow(), tenant.id, tech)

    assert (await browser.get("/app/conversations")).status_code == 401


async def test_a_form_post_without_the_csrf_token_is_refused(browser: Browser, new_uow) -> None:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    await browser.sign_in(new_uow, tenant.id, OWNER)

    refused = await browser.post("/app/logout")
    assert refused.status_code == 403
    assert (await browser.get("/app/conversations")).status_code == 200  # still signed in

    out = await browser.post("/app/logout", csrf_from="/app/conversations")
    assert out.status_code == 303
    assert (await browser.get("/app/conversations")).status_code == 401


async def test_over_http_the_cookie_is_not_secure(database_url: str, new_uow) -> None:
    settings = attrs.evolve(
        web_settings(api_settings(database_url)), public_base_url="http://localhost:8000"
    )
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    async with Browser.on(build_app(settings)) as browser:
        token = await login_token(new_uow, tenant.id, OWNER)
        opened = await browser.get(f"/app/login?token={token}")
    assert opened.status_code == 303
    assert "Secure" not in opened.headers["set-cookie"]


async def test_without_a_secret_key_there_is_no_inbox(database_url: str) -> None:
    async with api_client(api_settings(database_url)) as client:
        response = await client.get("/app/conversations")
    assert response.status_code == 404
    assert "NMC_SECRET_KEY" in response.text
