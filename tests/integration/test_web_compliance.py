"""The compliance page of the web inbox on real PostgreSQL: the 10DLC status (a rejection's
reason), the registration form submitted through the domain's `submit_registration` (back to
pending), a field at fault said next to it with what was typed kept, OWNER only, CSRF."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from nmc_domain.compliance.gate import reject_compliance
from nmc_domain.compliance.submission import show_compliance
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, api_settings
from tests.support.tenants import onboard
from tests.support.web import Browser, web_settings

PAGE = "/app/compliance"
FORM = {
    "brand.legal_name": "Acme Plumbing LLC",
    "brand.tax_id": "123456789",
    "brand.website": "https://acme-plumbing.com",
    "brand.address.street": "500 Congress Ave",
    "brand.address.city": "Austin",
    "brand.address.region": "tx",
    "brand.address.postal_code": "78701",
    "brand.address.country": "US",
    "brand.contact.name": "Ana Ruiz",
    "brand.contact.email": "owner@acme-plumbing.example",
    "brand.contact.phone": "+15125550123",
    "campaign.use_case": "CUSTOMER_CARE",
    "campaign.description": "We text back people whose call to our plumbing business we missed, "
    "to book a visit.",
    "campaign.sample_messages[0]": "Sorry we missed your call! How can we help?",
    "campaign.sample_messages[1]": "Water heater flush: $189.00. Reply 1 or 2 to book.",
    "campaign.consent_description": "People call us first; we text back only the number that "
    "called.",
}


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(new_uow: UnitOfWorkFactory) -> uuid.UUID:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING", approved=False)
    return tenant.id


@pytest.fixture
async def owner(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, acme, OWNER)
        yield browser


def status_of(html: str) -> str:
    found = re.search(r'id="compliance-status" data-status="([a-z]+)"', html)
    assert found is not None
    return found[1]


def error_of(html: str, field_id: str) -> str | None:
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return None if found is None else found[1]


def value_of(html: str, field_id: str) -> str:
    found = re.search(rf'<input [^>]*id="{field_id}" [^>]*value="([^"]*)"', html)
    if found is None:
        found = re.search(rf'<textarea [^>]*id="{field_id}"[^>]*>([^<]*)</textarea>', html)
    assert found is not None, field_id
    return found[1]


async def test_before_any_submission_the_page_says_texts_are_held(owner: Browser) -> None:
    page = await owner.get(PAGE)

    assert page.status_code == 200
    assert "<h1>Compliance</h1>" in page.text
    assert status_of(page.text) == "pending"
    assert "Not submitted yet" in page.text
    assert 'id="compliance-notice"' in page.text  # the frame's held-texts notice
    assert "Register your business" in page.text
    # Every field labelled, with the domain's bounds as hints to the browser.
    for field_id in ("brand-legal-name", "brand-tax-id", "campaign-description"):
        assert f'<label for="{field_id}">' in page.text
    assert 'id="campaign-description" name="campaign.description" rows="3" maxlength="4096"' in (
        page.text
    )
    assert value_of(page.text, "brand-address-country") == "US"


async def test_the_form_submits_and_the_page_shows_pending(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    posted = await owner.post(PAGE, FORM, csrf_from=PAGE)

    assert posted.status_code == 303, posted.text
    assert posted.headers["location"] == "/app/compliance?submitted=1"
    page = await owner.get(posted.headers["location"])
    assert status_of(page.text) == "pending"
    assert 'id="compliance-submitted"' in page.text
    assert "Waiting for the carriers' answer" in page.text
    assert "Last submitted" in page.text
    # The form now shows what is on file, as the domain cleaned it.
    assert value_of(page.text, "brand-tax-id") == "12-3456789"
    assert value_of(page.text, "brand-address-region") == "TX"
    view = await show_compliance(new_uow(), Principal(OWNER, acme))
    assert view.registration is not None
    assert view.registration.brand.legal_name == "Acme Plumbing LLC"
    assert view.registration.campaign.sample_messages == (
        FORM["campaign.sample_messages[0]"],
        FORM["campaign.sample_messages[1]"],
    )


async def test_a_bad_field_comes_back_next_to_it_keeping_what_was_typed(owner: Browser) -> None:
    page = await owner.post(PAGE, {**FORM, "brand.tax_id": "12-345"}, csrf_from=PAGE)

    assert page.status_code == 422
    assert error_of(page.text, "brand-tax-id") == "Must be an EIN: nine digits, as 12-3456789"
    assert re.search(r'id="brand-tax-id" [^>]*aria-invalid="true"', page.text)
    assert value_of(page.text, "brand-tax-id") == "12-345"
    assert value_of(page.text, "brand-legal-name") == "Acme Plumbing LLC"
    assert '<a href="#brand-tax-id">EIN (tax ID)</a>' in page.text  # the error summary
    assert status_of(page.text) == "pending"
    assert "Not submitted yet" in page.text  # nothing was stored


async def test_a_repeated_sample_is_marked_on_the_box_it_was_typed_in(owner: Browser) -> None:
    # Boxes 1 and 3 filled (the second one left empty): the domain's second sample is box 3.
    form = {
        **FORM,
        "campaign.sample_messages[1]": "",
        "campaign.sample_messages[2]": FORM["campaign.sample_messages[0]"],
    }

    page = await owner.post(PAGE, form, csrf_from=PAGE)

    assert page.status_code == 422
    assert error_of(page.text, "campaign-sample-messages-2") == "Repeats an earlier sample message"
    assert error_of(page.text, "campaign-sample-messages-1") is None


async def test_too_few_samples_are_said_on_the_samples(owner: Browser) -> None:
    page = await owner.post(PAGE, {**FORM, "campaign.sample_messages[1]": " "}, csrf_from=PAGE)

    assert page.status_code == 422
    assert error_of(page.text, "campaign-sample-messages") == "Must hold 2 to 5 sample messages"


async def test_an_unknown_use_case_is_said_next_to_the_choice(owner: Browser) -> None:
    page = await owner.post(PAGE, {**FORM, "campaign.use_case": "MARKETING"}, csrf_from=PAGE)

    assert page.status_code == 422
    assert (error_of(page.text, "campaign-use-case") or "").startswith("Choose one of:")


async def test_a_rejection_shows_its_reason_and_a_new_submission_goes_back_to_pending(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    assert (await owner.post(PAGE, FORM, csrf_from=PAGE)).status_code == 303
    await reject_compliance(new_uow(), acme, "EIN does not match the legal name <IRS>")

    page = await owner.get(PAGE)
    assert status_of(page.text) == "rejected"
    assert "Rejected: EIN does not match the legal name &lt;IRS&gt;" in page.text
    assert "Update your registration" in page.text

    again = await owner.post(PAGE, {**FORM, "brand.legal_name": "Acme Plumbing Co"}, csrf_from=PAGE)
    assert again.status_code == 303
    assert status_of((await owner.get(PAGE)).text) == "pending"


async def test_a_tech_gets_the_403_page_and_cannot_submit(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    tech = "mo.tech@acme-plumbing.example"
    await add_user_for_tenant(new_uow(), acme, email=tech, role="TECH")
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, acme, tech)
        refused = await browser.get(PAGE)
        posted = await browser.post(PAGE, FORM, csrf_from="/app/conversations")

    assert (refused.status_code, posted.status_code) == (403, 403)
    assert "Not for your role" in refused.text
    assert (await show_compliance(new_uow(), Principal(OWNER, acme))).registration is None


async def test_a_post_without_the_csrf_token_is_refused(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    refused = await owner.post(PAGE, FORM)

    assert refused.status_code == 403
    assert (await show_compliance(new_uow(), Principal(OWNER, acme))).registration is None
