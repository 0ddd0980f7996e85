"""The owner's web inbox in a real browser (Playwright driving the machine's Chromium) against
the API and worker programs, real PostgreSQL, the fake Twilio and the fake Stripe: a login
link signs in; a missed call and the caller's texts appear live; a person takes over, texts
(it reaches Twilio) and hands back; the billing banner comes with a failed payment and goes
with a paid invoice; a TECH cannot open billing; expired or reused links and form posts
without the CSRF token are refused. Each run leaves screenshots under reports/screenshots/."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import attrs
import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, token_for
from tests.support.billing import SECRET_KEY as STRIPE_KEY
from tests.support.billing import WEBHOOK_SECRET, new_ids, stripe_env
from tests.support.browser import LAPTOP, PHONE, chromium, screenshot
from tests.support.cli import clean_env, nmc
from tests.support.fake_stripe import FakeStripe
from tests.support.fake_twilio import FakeMessage, FakeTwilio
from tests.support.processes import Running, free_port
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import ACCOUNT_SID, JWT_SECRET, call_sid, sign, status_callback
from tests.support.waiting import eventually
from tests.support.web import SECRET_KEY, login_token

pytestmark = pytest.mark.slow

TOKEN = "e2e-web-inbox-twilio-auth-token"
TECH = "dana.reyes@acme-plumbing.example"
LIVE = 15_000  # ms: the pages poll every few seconds; the worker sends within a second or two
PERSON = "Hi, Dana here: I can be there at 8 tomorrow."


@attrs.frozen
class Stack:
    base_url: str
    env: dict[str, str]


@attrs.frozen
class Shop:
    """ACME-PLUMBING on a paid plan, with an item, a technician, hours and a TECH user."""

    tenant_id: uuid.UUID
    number: str
    owner: dict[str, str]  # the OWNER's bearer header for /v1
    customer: str
    subscription: str


@pytest.fixture(scope="module")
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture(scope="module")
def stack(database_url: str, twilio: FakeTwilio, stripe: FakeStripe) -> Iterator[Stack]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN=TOKEN,
        NMC_TWILIO_API_BASE=twilio.base_url,
        NMC_JWT_SECRET=JWT_SECRET,
        NMC_SECRET_KEY=SECRET_KEY,
        **stripe_env(stripe) | {"NMC_APP_BASE_URL": base_url},
    )
    api = Running([sys.executable, "-m", "nmc_api", "--port", str(port)], env)
    worker = Running([sys.executable, "-m", "nmc_worker", "--seed", "13"], env)
    try:
        api.wait_for(lambda line: "Application startup complete" in line)
        worker.wait_for(lambda line: "worker.started" in line)
        yield Stack(base_url, env)
    finally:
        api_code, worker_code = api.stop(), worker.stop()
        # uvicorn re-raises SIGTERM after its graceful shutdown: -15 is a clean exit too.
        assert api_code in (0, -signal.SIGTERM), api.output
        assert worker_code == 0, worker.output
        output = api.output + worker.output
        for secret in (TOKEN, SECRET_KEY, STRIPE_KEY, WEBHOOK_SECRET, "/app/login?token="):
            assert secret not in output


@pytest.fixture(scope="module")
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture(scope="module")
async def shop(stack: Stack, stripe: FakeStripe, new_uow: UnitOfWorkFactory) -> Shop:
    tenant, number = await onboard(new_uow, name="ACME-PLUMBING")  # compliance approved
    owner = {"Authorization": f"Bearer {token_for(tenant.id)}"}
    async with httpx.AsyncClient(base_url=stack.base_url + "/v1", headers=owner) as api:
        for path, body in [
            (
                "/catalog/items",
                {
                    "name": "Water heater flush",
                    "price_cents": 18_900,
                    "duration_minutes": 90,
                    "aliases": ["water heater", "tank flush"],
                },
            ),
            ("/technicians", {"name": "Dana Reyes"}),
            ("/users", {"email": TECH, "role": "TECH"}),
        ]:
            made = await api.post(path, json=body)
            assert made.status_code == 201, made.text
        days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        periods = [{"weekday": day, "start": "08:00", "end": "18:00"} for day in days]
        hours = await api.put("/business-hours", json={"periods": periods})
        assert hours.status_code == 200, hours.text
    # The plan, as our checkout makes it: Stripe's subscription names the tenant.
    customer, sub = new_ids()
    metadata = {"tenant_id": str(tenant.id)}
    stripe.set_subscription(sub, customer=customer, status="active", metadata=metadata)
    await post_stripe(
        stack, stripe.signed_event("customer.subscription.created", stripe.subscription_json(sub))
    )
    shop = Shop(tenant.id, number, owner, customer, sub)
    await billing_is(stack, shop, status="active", banner=None)
    return shop


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    """A fresh browser profile (no cookies) on the API, laptop-sized."""
    context = await browser.new_context(base_url=stack.base_url, viewport=LAPTOP)
    try:
        yield await context.new_page()
    finally:
        await context.close()


# --- the outside world -------------------------------------------------------------------


async def post_twilio(stack: Stack, path: str, params: dict[str, str]) -> None:
    url = stack.base_url + path
    headers = {"X-Twilio-Signature": sign(url, params, TOKEN)}
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, data=params, headers=headers)
    assert answer.status_code == 200, answer.text


async def caller_texts(stack: Stack, shop: Shop, caller: str, body: str) -> None:
    await post_twilio(
        stack,
        "/webhooks/twilio/sms",
        {
            "AccountSid": ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": caller,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "NumMedia": "0",
            "SmsStatus": "received",
            "To": shop.number,
        },
    )


async def post_stripe(stack: Stack, signed: tuple[bytes, str]) -> None:
    body, header = signed
    headers = {"Stripe-Signature": header, "Content-Type": "application/json"}
    async with httpx.AsyncClient() as client:
        answer = await client.post(
            stack.base_url + "/webhooks/stripe", content=body, headers=headers
        )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"outcome": "sync_queued"}


async def billing_is(stack: Stack, shop: Shop, **expected: object) -> dict[str, Any]:
    """GET /v1/billing once it shows `expected` (the worker has synced the plan from Stripe)."""

    async def shown() -> dict[str, Any] | None:
        async with httpx.AsyncClient() as client:
            answer = await client.get(stack.base_url + "/v1/billing", headers=shop.owner)
        assert answer.status_code == 200, answer.text
        body = dict(answer.json())
        return body if all(body[k] == v for k, v in expected.items()) else None

    body: dict[str, Any] | None = await eventually(shown, within=20)
    assert body is not None
    return body


async def conversation_of(stack: Stack, shop: Shop, caller: str) -> str:
    """The id of the caller's conversation (from /v1: the pages' links are made of it)."""

    async def found() -> str | None:
        async with httpx.AsyncClient() as client:
            answer = await client.get(stack.base_url + "/v1/conversations", headers=shop.owner)
        assert answer.status_code == 200, answer.text
        ids = [c["id"] for c in answer.json()["items"] if c["contact"] == caller]
        return ids[0] if ids else None

    conversation_id: str | None = await eventually(found)
    assert conversation_id is not None
    return conversation_id


async def texts_to(twilio: FakeTwilio, caller: str, count: int) -> list[FakeMessage]:
    """What the fake Twilio got for `caller`, once it holds `count` texts (and no more)."""
    got = await eventually(
        lambda: len([m for m in twilio.messages if m.to == caller]) >= count, within=20
    )
    assert got
    texts = [m for m in twilio.messages if m.to == caller]
    assert len(texts) == count, [m.body for m in texts]
    return texts


# --- the browser's side ------------------------------------------------------------------


async def sign_in(page: Page, new_uow: UnitOfWorkFactory, shop: Shop, email: str) -> None:
    """Open a login link made the way `nmc web login-link` makes it: lands on the list."""
    token = await login_token(new_uow, shop.tenant_id, email)
    response = await page.goto(f"/app/login?token={token}")
    assert response is not None
    assert response.status == 200, await response.text()
    await expect(page).to_have_url(re.compile(r"/app/conversations$"))
    await expect(page.get_by_role("heading", level=1)).to_be_visible()


def banner(page: Page) -> Locator:
    return page.locator("#billing-banner")


# --- the tests ---------------------------------------------------------------------------


async def test_a_person_takes_over_a_missed_call_in_the_browser(
    stack: Stack, shop: Shop, twilio: FakeTwilio, page: Page
) -> None:
    # The operator's login link (the CLI is what's under test here), opened in the browser.
    made = await asyncio.to_thread(
        nmc, "web", "login-link", str(shop.tenant_id), OWNER, "--json", env=stack.env
    )
    assert made.returncode == 0, made.stderr
    link = json.loads(made.stdout.splitlines()[-1])
    assert (link["email"], link["role"]) == (OWNER, "OWNER")
    assert link["url"].startswith(stack.base_url + "/app/login?token=")
    await page.goto(link["url"])
    await expect(page).to_have_url(stack.base_url + "/app/conversations")
    await expect(page.get_by_role("heading", level=1, name="Conversations")).to_be_visible()
    for tab in ("open", "human", "blocked", "closed"):
        await expect(page.get_by_role("link", name=tab, exact=False).first).to_be_visible()
    await expect(page.locator("#conversation-list")).to_be_attached()

    # A missed call: the conversation appears in the list without reloading.
    caller = caller_number()
    await post_twilio(
        stack,
        "/webhooks/twilio/voice/status",
        status_callback(shop.number, caller, call_sid()),
    )
    conversation_id = await conversation_of(stack, shop, caller)
    item = page.locator(
        f'#conversation-list a.conversation[href="/app/conversations/{conversation_id}"]'
    )
    await expect(item).to_be_visible(timeout=LIVE)
    await expect(item).to_contain_text(caller[-4:])
    [text_back] = await texts_to(twilio, caller, 1)
    assert "ACME-PLUMBING" in text_back.body
    await screenshot(page, "conversations")
    await screenshot(page, "conversations-phone", size=PHONE)

    # The thread: the call and the text-back; the caller's text and the assistant's offer
    # arrive while it is open.
    await item.click()
    await expect(page).to_have_url(stack.base_url + f"/app/conversations/{conversation_id}")
    messages = page.locator("#messages")
    await expect(page.locator(".call").first).to_be_visible()
    outbound = messages.locator("li.message.outbound")
    await expect(outbound.filter(has_text="ACME-PLUMBING").first).to_be_visible()
    await caller_texts(stack, shop, caller, "my water heater is leaking")
    inbound = messages.locator("li.message.inbound", has_text="my water heater is leaking")
    await expect(inbound).to_be_visible(timeout=LIVE)
    offer = outbound.filter(has_text="Water heater flush")
    await expect(offer).to_be_visible(timeout=LIVE)
    await expect(offer).to_contain_text("$189.00")
    await expect(page.locator("#booking")).to_be_visible()
    assert "Water heater flush" in (await texts_to(twilio, caller, 2))[-1].body

    # A person takes over and types a text: the segment count follows what is typed.
    await page.get_by_role("button", name="Take over").click()
    await expect(page.get_by_role("button", name="Hand back")).to_be_visible()
    box = page.get_by_label("Message", exact=True)
    await expect(box).to_have_attribute("id", "body")
    segments = page.locator("output#segments")
    await box.fill("x" * 161)
    await expect(segments).to_have_text(re.compile(r"\b2 segments\b"))
    await box.fill("")
    await box.press_sequentially(PERSON)
    await expect(segments).to_have_text(re.compile(r"\b1 segment\b"))
    await page.get_by_role("button", name="Send", exact=True).click()

    # It reaches Twilio, and shows in the thread.
    sent = (await texts_to(twilio, caller, 3))[-1]
    assert sent.body == PERSON
    mine = outbound.filter(has_text=PERSON)
    await expect(mine).to_be_visible(timeout=LIVE)
    # Twilio reports it delivered: the thread shows it without reloading.
    assert sent.status_callback is not None
    await post_twilio(
        stack,
        sent.status_callback.removeprefix(stack.base_url),
        {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": sent.sid,
            "MessageStatus": "delivered",
            "From": shop.number,
            "To": caller,
        },
    )
    await expect(mine).to_have_attribute("data-status", "delivered", timeout=LIVE)
    await screenshot(page, "thread")
    await screenshot(page, "thread-phone", size=PHONE)

    # Handed back to the assistant.
    await page.get_by_role("button", name="Hand back").click()
    await expect(page.get_by_role("button", name="Take over")).to_be_visible()


async def test_the_billing_banner_comes_with_a_failed_payment_and_goes_when_paid(
    stack: Stack, shop: Shop, stripe: FakeStripe, page: Page, new_uow: UnitOfWorkFactory
) -> None:
    await sign_in(page, new_uow, shop, OWNER)
    opened = await page.goto("/app/billing")
    assert opened is not None
    assert opened.status == 200
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(banner(page)).to_have_count(0)

    # The renewal's payment fails: Stripe says so, signed; the worker re-reads the plan.
    metadata = {"tenant_id": str(shop.tenant_id)}
    stripe.set_subscription(
        shop.subscription, customer=shop.customer, status="past_due", metadata=metadata
    )
    failed = stripe.invoice_json(shop.subscription, paid=False)
    await post_stripe(stack, stripe.signed_event("invoice.payment_failed", failed))
    await billing_is(stack, shop, status="past_due")
    await page.reload()
    await expect(banner(page)).to_be_visible()
    await expect(banner(page)).to_contain_text("Payment failed")
    await screenshot(page, "billing")
    await page.goto("/app/conversations")  # on every page
    await expect(banner(page)).to_be_visible()
    await expect(banner(page)).to_contain_text("Payment failed")

    # The card is updated and the invoice paid: the banner goes.
    stripe.set_subscription(
        shop.subscription, customer=shop.customer, status="active", metadata=metadata
    )
    paid = stripe.invoice_json(shop.subscription, paid=True)
    await post_stripe(stack, stripe.signed_event("invoice.paid", paid))
    await billing_is(stack, shop, status="active", banner=None)
    await page.reload()
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(banner(page)).to_have_count(0)

    # "Manage billing" opens Stripe's Customer Portal (answered here: the network is closed).
    await page.route(
        "https://billing.stripe.com/**",
        lambda route: route.fulfill(content_type="text/html", body="<h1>Customer Portal</h1>"),
    )
    await page.goto("/app/billing")
    await expect(banner(page)).to_have_count(0)
    await page.get_by_role("button", name="Manage billing").click()
    await expect(page).to_have_url(re.compile(r"^https://billing\.stripe\.com/p/session/"))
    assert [s["customer"] for s in stripe.portal_sessions][-1:] == [shop.customer]


async def test_a_tech_answers_conversations_but_cannot_open_billing(
    shop: Shop, page: Page, new_uow: UnitOfWorkFactory
) -> None:
    await sign_in(page, new_uow, shop, TECH)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Conversations")).to_be_visible()
    await expect(nav.get_by_role("link", name="Schedule")).to_be_visible()
    for owners_only in ("Billing", "Catalog & hours", "Reports", "Compliance"):
        await expect(nav.get_by_role("link", name=owners_only)).to_have_count(0)

    refused = await page.goto("/app/billing")
    assert refused is not None
    assert refused.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Not for your role")

    schedule = await page.goto("/app/schedule")
    assert schedule is not None
    assert schedule.status == 200
    await expect(page.get_by_role("heading", level=1)).to_be_visible()


async def test_an_expired_or_reused_login_link_is_refused(
    shop: Shop, page: Page, new_uow: UnitOfWorkFactory
) -> None:
    expired = await login_token(new_uow, shop.tenant_id, OWNER, ttl=timedelta(microseconds=1))
    refused = await page.goto(f"/app/login?token={expired}")
    assert refused is not None
    assert refused.status == 400
    await expect(page.get_by_role("heading", level=1)).to_have_text("This login link does not work")

    token = await login_token(new_uow, shop.tenant_id, OWNER)
    opened = await page.goto(f"/app/login?token={token}")
    assert opened is not None
    assert opened.status == 200
    await expect(page).to_have_url(re.compile(r"/app/conversations$"))
    await page.context.clear_cookies()
    reused = await page.goto(f"/app/login?token={token}")
    assert reused is not None
    assert reused.status == 400
    await expect(page.get_by_text("already used")).to_be_visible()
    locked_out = await page.goto("/app/conversations")
    assert locked_out is not None
    assert locked_out.status == 401


async def test_a_form_post_without_the_csrf_token_is_refused(
    shop: Shop, page: Page, new_uow: UnitOfWorkFactory
) -> None:
    await sign_in(page, new_uow, shop, OWNER)
    sign_out = page.get_by_role("button", name="Sign out")
    await expect(sign_out).to_be_visible()

    # The page's own form, its hidden token removed.
    await page.evaluate(
        "document.querySelectorAll('form[action=\"/app/logout\"] [name=_csrf_token]')"
        ".forEach(field => field.remove())"
    )
    async with page.expect_response(lambda r: r.url.endswith("/app/logout")) as answer:
        await sign_out.click()
    assert (await answer.value).status == 403
    # The same post from the browser's cookies, without token or header.
    forged = await page.request.post("/app/logout", form={"x": "1"}, max_redirects=0)
    assert forged.status == 403

    # Still signed in; with its token, the form signs out.
    still = await page.goto("/app/conversations")
    assert still is not None
    assert still.status == 200
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/app/signed-out$"))
    after = await page.goto("/app/conversations")
    assert after is not None
    assert after.status == 401


@pytest.mark.parametrize("area", ["schedule", "catalog", "reports", "compliance"])
async def test_the_owners_pages_open(
    shop: Shop, page: Page, new_uow: UnitOfWorkFactory, area: str
) -> None:
    await sign_in(page, new_uow, shop, OWNER)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.locator(f'a[href="/app/{area}"]')).to_have_count(1)
    opened = await page.goto(f"/app/{area}")
    assert opened is not None
    assert opened.status == 200, f"/app/{area}: {opened.status}"
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.get_by_text("Traceback")).to_have_count(0)
    await screenshot(page, area)
