"""The schedule and catalog pages in a real browser (Playwright driving the machine's
Chromium) against the API program and real PostgreSQL: cancel asks first and the week
updates in place (htmx); a taken time comes back next to the reschedule form; the template
preview follows what is typed (text, segment count, the domain's error); a bad price is shown
next to its field. Screenshots of the week (laptop, phone) and the catalog under
reports/screenshots/."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs
import pytest
from playwright.async_api import Browser, Dialog, Page, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.catalog.use_cases import NewItem, create_item
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.reservations import HoldRequest, book_hold, hold_slot
from nmc_domain.scheduling.setup import add_busy_block, add_technician, set_business_hours
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER
from tests.support.browser import LAPTOP, PHONE, chromium, screenshot
from tests.support.cli import clean_env
from tests.support.processes import Running, free_port
from tests.support.tenants import onboard
from tests.support.twilio import ACCOUNT_SID, JWT_SECRET
from tests.support.web import SECRET_KEY, login_token

pytestmark = pytest.mark.slow

CHICAGO = ZoneInfo("America/Chicago")
CALLER = "+14155550123"


@attrs.frozen
class Shop:
    """ACME-PLUMBING with Dana's week booked: Monday 9:00 and Tuesday 8:00 jobs, Wednesday
    13:00 job, a busy block Monday afternoon."""

    tenant_id: UUID
    monday: date


@pytest.fixture(scope="module")
def base_url(database_url: str) -> Iterator[str]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = clean_env(
        NMC_DATABASE_URL=database_url,
        NMC_PUBLIC_BASE_URL=base_url,
        NMC_TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        NMC_TWILIO_AUTH_TOKEN="e2e-web-schedule-twilio-auth-token",
        NMC_TWILIO_API_BASE="http://127.0.0.1:9",  # nothing is texted here
        NMC_JWT_SECRET=JWT_SECRET,
        NMC_SECRET_KEY=SECRET_KEY,
    )
    api = Running([sys.executable, "-m", "nmc_api", "--port", str(port)], env)
    try:
        api.wait_for(lambda line: "Application startup complete" in line)
        yield base_url
    finally:
        api.stop()


@pytest.fixture(scope="module")
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO)


@pytest.fixture(scope="module")
async def shop(new_uow: UnitOfWorkFactory) -> Shop:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    owner = Principal(OWNER, tenant.id)
    item = await create_item(
        new_uow(), owner, NewItem("Water Heater Flush", 18_900, 90, ("water heater",))
    )
    await create_item(new_uow(), owner, NewItem("Drain Cleaning", 12_900, 60, ("clog",)))
    dana = await add_technician(new_uow(), owner, name="Dana Reyes")
    await add_technician(new_uow(), owner, name="Lee Park")
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    periods = [
        (d, start, end) for d in weekdays for start, end in (("08:00", "12:00"), ("13:00", "17:00"))
    ]
    await set_business_hours(new_uow(), owner, periods)
    today = datetime.now(CHICAGO).date()
    monday = today + timedelta(days=3 + (7 - (today + timedelta(days=3)).weekday()) % 7)
    for day, hour in (
        (monday, 9),
        (monday + timedelta(days=1), 8),
        (monday + timedelta(days=2), 13),
    ):
        held = await hold_slot(
            new_uow(), owner, HoldRequest(item.id, dana.id, at(day, hour), CALLER)
        )
        await book_hold(new_uow(), owner, held.booking.id, None)
    await add_busy_block(
        new_uow(), owner, technician_id=dana.id, start=at(monday, 13), end=at(monday, 15)
    )
    return Shop(tenant.id, monday)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def page(
    browser: Browser, base_url: str, shop: Shop, new_uow: UnitOfWorkFactory
) -> AsyncIterator[Page]:
    context = await browser.new_context(base_url=base_url, viewport=LAPTOP)
    page = await context.new_page()
    token = await login_token(new_uow, shop.tenant_id, OWNER)
    await page.goto(f"/app/login?token={token}")
    yield page
    await context.close()


async def test_cancel_and_reschedule_from_the_week(page: Page, shop: Shop) -> None:
    await page.goto(f"/app/schedule?week={shop.monday.isoformat()}")
    monday = page.locator(f"#day-{shop.monday.isoformat()}")
    await expect(monday.locator(".appointment")).to_contain_text("9:00 AM")
    await expect(monday.locator('.busy[data-source="manual"]')).to_contain_text("Added by hand")
    await screenshot(page, "schedule-week")
    await screenshot(page, "schedule-week-phone", size=PHONE)

    asked: list[str] = []

    async def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await monday.get_by_role("button", name="Cancel Water Heater Flush").click()
    await expect(monday.locator(".appointment")).to_have_attribute("data-status", "canceled")
    await expect(page.locator("#schedule-notice")).to_be_visible()
    assert [text.split(",")[0] for text in asked] == ["Cancel Water Heater Flush on Monday"]

    tuesday = page.locator(f"#day-{(shop.monday + timedelta(days=1)).isoformat()}")
    await tuesday.get_by_text("Reschedule").click()
    await tuesday.get_by_label("Date").fill((shop.monday + timedelta(days=2)).isoformat())
    await tuesday.get_by_label("Start time").fill("13:30")
    await tuesday.get_by_role("button", name="Move").click()
    await expect(tuesday.get_by_text("This time is taken")).to_be_visible()
    await screenshot(page, "schedule-reschedule-taken")

    await tuesday.get_by_label("Start time").fill("15:00")
    await tuesday.get_by_role("button", name="Move").click()
    await expect(page.locator("#schedule-notice")).to_have_text("The appointment was moved.")
    wednesday = page.locator(f"#day-{(shop.monday + timedelta(days=2)).isoformat()}")
    await expect(wednesday.locator(".appointment")).to_have_count(2)


async def test_the_template_preview_follows_the_typing(page: Page) -> None:
    await page.goto("/app/catalog")
    box = page.get_by_label("Text-back message", exact=True)
    await box.fill("Hi from {business_name}! " + "x" * 150)
    await expect(page.locator("#text-back-segments")).to_have_text("2 segments")
    await box.fill("Hi {who}")
    await expect(page.locator("#text-back-preview-error")).to_contain_text("Unknown variable {who}")
    await box.fill("Hi from {business_name}")
    await expect(page.locator("#text-back-preview-text")).to_have_text("Hi from ACME-PLUMBING")
    await expect(page.locator("#text-back-segments")).to_have_text("1 segment")

    await page.locator("#new-item-name").fill("Sump Pump Check")
    await page.locator("#new-item-price").fill("lots")
    await page.locator("#new-item-duration").fill("60")
    await page.get_by_role("button", name="Add the service").click()
    await expect(page.locator("#new-item-price-error")).to_contain_text("dollars and cents")
    await expect(page.locator("#new-item-name")).to_have_value("Sump Pump Check")
    await page.locator("#new-item-price").fill("149")
    await page.get_by_role("button", name="Add the service").click()
    await expect(page.locator("#catalog-notice")).to_have_text("The service was saved.")
    await expect(page.locator("#items")).to_contain_text("Sump Pump Check")
    await screenshot(page, "catalog-phone", size=PHONE)
