"""The billing page of the web inbox on real PostgreSQL with Stripe pointed at FakeStripe:
the plan in words, "Subscribe" to Checkout and "Manage billing" to the Customer Portal (303),
Stripe failing shown on the page (502), the way back from Checkout, the failed-payment banner
on every page, OWNER only, CSRF on its posts, and the page without Stripe configured."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from nmc_domain.billing.model import Subscription, SubscriptionStatus
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, api_settings
from tests.support.billing import APP_BASE_URL, PRICE_ID, new_ids, stripe_settings
from tests.support.fake_stripe import FakeStripe
from tests.support.tenants import onboard
from tests.support.web import Browser, web_settings

TECH = "mo.tech@acme-plumbing.example"
# 2031-03-14 12:00 UTC is 7:00 in Chicago, the tenant's zone: the same day there.
PERIOD_END = datetime(2031, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as fake:
        yield fake


@pytest.fixture
def app(database_url: str, fake: FakeStripe) -> Litestar:
    # One app per test: a browser leaving the app shuts it down, closing its Stripe client.
    return build_app(stripe_settings(web_settings(api_settings(database_url)), fake))


@pytest.fixture
def unbilled(database_url: str) -> Litestar:
    """The same database without any Stripe setting (self-hosting, `nmc dev`)."""
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(new_uow: UnitOfWorkFactory) -> uuid.UUID:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    return tenant.id


@pytest.fixture
async def owner(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, acme, OWNER)
        yield browser


async def mirror(
    new_uow: UnitOfWorkFactory,
    tenant_id: uuid.UUID,
    status: SubscriptionStatus,
    *,
    fake: FakeStripe | None = None,
    cancel_at_period_end: bool = False,
) -> str:
    """The tenant's subscription mirror, stored as the worker's sync stores it; the customer
    is made at the fake Stripe too when given. Returns the customer id."""
    customer, sub = new_ids()
    if fake is not None:
        fake.add_customer(customer)
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        now = await uow.now()
        await uow.subscriptions.save(
            Subscription(
                tenant_id=tenant_id,
                customer_id=customer,
                subscription_id=sub,
                status=status,
                price_id=PRICE_ID,
                current_period_end=PERIOD_END,
                cancel_at_period_end=cancel_at_period_end,
                updated_at=now,
                status_since=now,
            )
        )
        await uow.commit()
    return customer


def week_on() -> str:
    """A week from now (UTC), as the banner writes the day the grace ends."""
    return (datetime.now(UTC) + timedelta(days=7)).strftime("%b %-d")


def buttons(html: str) -> list[str]:
    return re.findall(r"<button[^>]*>([^<]+)</button>", html)


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found is not None, f"no #{element_id}"
    return found[1].strip()


async def test_before_any_plan_the_page_offers_subscribe_only(owner: Browser) -> None:
    page = await owner.get("/app/billing")

    assert page.status_code == 200, page.text
    assert "<h1>Billing</h1>" in page.text
    assert text_of(page.text, "plan-status") == "No plan yet"
    assert text_of(page.text, "plan-entitled") == "Off"
    assert "No plan yet: subscribe to start texting back" in page.text
    assert [b for b in buttons(page.text) if b != "Sign out"] == ["Subscribe"]


async def test_subscribe_goes_to_the_fake_stripes_checkout(
    owner: Browser, fake: FakeStripe, acme: uuid.UUID
) -> None:
    went = await owner.post("/app/billing/checkout", csrf_from="/app/billing")

    assert went.status_code == 303, went.text
    [session] = [s for s in fake.checkout_sessions if s.params["client_reference_id"] == str(acme)]
    assert went.headers["location"] == session.url
    assert session.url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    assert session.params["customer_email"] == OWNER
    assert session.params["success_url"] == f"{APP_BASE_URL}/app/billing?checkout=success"
    assert session.params["cancel_url"] == f"{APP_BASE_URL}/app/billing?checkout=canceled"


async def test_stripe_failing_is_said_on_the_page(owner: Browser, fake: FakeStripe) -> None:
    token_page = "/app/billing"
    fake.fail_next(1, status=500)
    try:
        failed = await owner.post("/app/billing/checkout", csrf_from=token_page)
    finally:
        fake.clear_faults()

    assert failed.status_code == 502
    assert "<h1>Billing</h1>" in failed.text
    assert "Stripe could not be reached just now" in text_of(failed.text, "billing-error")
    assert "Traceback" not in failed.text


@pytest.mark.parametrize(
    ("outcome", "says"),
    [("success", "Thank you: Stripe took your details"), ("canceled", "nothing was charged")],
)
async def test_the_way_back_from_checkout_says_how_it_went(
    owner: Browser, outcome: str, says: str
) -> None:
    page = await owner.get(f"/app/billing?checkout={outcome}")

    assert page.status_code == 200
    assert says in text_of(page.text, "billing-notice")


async def test_an_active_plan_shows_its_period_and_manage_billing_goes_to_the_portal(
    owner: Browser, fake: FakeStripe, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    customer = await mirror(new_uow, acme, SubscriptionStatus.ACTIVE, fake=fake)

    page = await owner.get("/app/billing")
    assert page.status_code == 200
    assert text_of(page.text, "plan-status") == "Active"
    assert text_of(page.text, "plan-entitled") == "On"
    assert "Mar 14, 2031" in page.text
    assert PRICE_ID in page.text
    assert [b for b in buttons(page.text) if b != "Sign out"] == ["Manage billing"]
    assert 'id="billing-banner"' not in page.text

    went = await owner.post("/app/billing/portal", csrf_from="/app/billing")

    assert went.status_code == 303, went.text
    [portal] = [p for p in fake.portal_sessions if p["customer"] == customer]
    assert went.headers["location"] == portal["url"]
    assert portal["return_url"] == f"{APP_BASE_URL}/app/billing"


async def test_a_plan_ending_says_so(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    await mirror(new_uow, acme, SubscriptionStatus.ACTIVE, cancel_at_period_end=True)

    page = await owner.get("/app/billing")

    assert "Ends on" in page.text
    assert (
        text_of(page.text, "plan-banner")
        == "Your plan ends on Mar 14: renew it to keep texting back"
    )


async def test_the_portal_before_any_customer_is_a_readable_message(
    owner: Browser, fake: FakeStripe
) -> None:
    before = len(fake.portal_sessions)

    answer = await owner.post("/app/billing/portal", csrf_from="/app/billing")

    assert answer.status_code == 404
    assert "<h1>Billing</h1>" in answer.text
    assert "subscribe first" in text_of(answer.text, "billing-error")
    assert len(fake.portal_sessions) == before


async def test_a_failed_payment_puts_the_banner_on_every_page_and_active_does_not(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    await add_user_for_tenant(new_uow(), acme, email=TECH, role="TECH")
    # The grace runs a week from when it became past due (the database's clock, now).
    ends = {week_on()}
    await mirror(new_uow, acme, SubscriptionStatus.PAST_DUE)
    ends.add(week_on())  # either, should the test straddle midnight UTC

    async with Browser.on(app) as owner, Browser.on(app) as tech:
        await owner.sign_in(new_uow, acme, OWNER)
        await tech.sign_in(new_uow, acme, TECH)
        for browser, path in [
            (owner, "/app/conversations"),
            (owner, "/app/billing"),
            (tech, "/app/conversations"),
        ]:
            page = await browser.get(path)
            assert page.status_code == 200, path
            banner = text_of(page.text, "billing-banner")
            assert banner in {f"Payment failed: update your card by {end}" for end in ends}, path
        billing = await owner.get("/app/billing")
        assert text_of(billing.text, "plan-status") == "Past due: the last payment failed"
        assert "Fix billing" not in billing.text  # the page it would point to
        assert 'href="/app/billing">Fix billing' in (await owner.get("/app/conversations")).text
        assert "Fix billing" not in (await tech.get("/app/conversations")).text

        await mirror(new_uow, acme, SubscriptionStatus.ACTIVE)

        assert 'id="billing-banner"' not in (await owner.get("/app/conversations")).text
        assert 'id="billing-banner"' not in (await tech.get("/app/conversations")).text


async def test_a_tech_gets_the_403_page_and_cannot_post(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID, fake: FakeStripe
) -> None:
    await add_user_for_tenant(new_uow(), acme, email=TECH, role="TECH")
    sessions = len(fake.checkout_sessions)
    async with Browser.on(app) as tech:
        await tech.sign_in(new_uow, acme, TECH)

        refused = await tech.get("/app/billing")
        assert refused.status_code == 403
        assert "Not for your role" in refused.text
        for path in ("/app/billing/checkout", "/app/billing/portal"):
            posted = await tech.post(path, csrf_from="/app/conversations")
            assert posted.status_code == 403, path
            assert "Not for your role" in posted.text
    assert len(fake.checkout_sessions) == sessions


async def test_posts_without_the_csrf_token_are_refused(owner: Browser, fake: FakeStripe) -> None:
    sessions, portals = len(fake.checkout_sessions), len(fake.portal_sessions)

    for path in ("/app/billing/checkout", "/app/billing/portal"):
        assert (await owner.post(path)).status_code == 403, path

    assert (len(fake.checkout_sessions), len(fake.portal_sessions)) == (sessions, portals)


async def test_without_stripe_the_page_says_billing_is_not_configured(
    unbilled: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    async with Browser.on(unbilled) as owner:
        await owner.sign_in(new_uow, acme, OWNER)

        page = await owner.get("/app/billing")
        assert page.status_code == 200
        assert "Billing is not configured" in text_of(page.text, "billing-not-configured")
        assert [b for b in buttons(page.text) if b != "Sign out"] == []
        assert 'id="billing-banner"' not in page.text

        posted = await owner.post("/app/billing/checkout", csrf_from="/app/billing")
        assert posted.status_code == 404
        assert "Billing is not configured" in posted.text
