"""The catalog & hours page of the web inbox on real PostgreSQL: services added and edited
(a bad price or duration shows the reason and stores nothing), business hours with split
shifts (an overlap is refused on its row), closures added and removed, the text-back and
after-hours templates previewed live (the domain's rendering and segment count; an unknown
placeholder shows the domain's error) and saved; OWNER only; no CSRF token, no change."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.use_cases import NewItem, create_item, get_item, list_items
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.scheduling.model import WeeklyHours, weekly_hours
from nmc_domain.scheduling.setup import get_business_hours, list_closures, set_business_hours
from nmc_domain.tenancy.profile import me
from nmc_domain.tenancy.template import DEFAULT_TEXT_BACK
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, api_settings
from tests.support.tenants import onboard
from tests.support.web import Browser, web_settings

TECH = "mo.tech@acme-plumbing.example"
SPLIT = {
    "hours-mon-0-start": "08:00",
    "hours-mon-0-end": "12:00",
    "hours-mon-1-start": "13:00",
    "hours-mon-1-end": "17:00",
    "hours-sat-0-start": "09:00",
    "hours-sat-0-end": "24:00",
    "hours-tue-0-start": "",
    "hours-tue-0-end": "",
}


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(new_uow: UnitOfWorkFactory) -> Principal:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    await add_user_for_tenant(new_uow(), tenant.id, email=TECH, role="TECH")
    return Principal(OWNER, tenant.id)


@pytest.fixture
async def owner(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: Principal
) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, acme.tenant_id, OWNER)
        yield browser


async def items_of(new_uow: UnitOfWorkFactory, acme: Principal) -> list[ServiceItem]:
    return list((await list_items(new_uow(), acme, None, 50)).items)


def near(html: str, element_id: str, length: int = 700) -> str:
    """The markup from an element's id on."""
    at = html.index(f'id="{element_id}"')
    return html[at : at + length]


async def test_the_page_has_its_sections(owner: Browser) -> None:
    page = await owner.get("/app/catalog")
    assert page.status_code == 200, page.text
    assert "<h1>Catalog &amp; hours</h1>" in page.text
    for section in ("services", "hours", "closures", "text-back", "after-hours"):
        assert f'<section id="{section}"' in page.text
    assert 'id="no-items"' in page.text
    assert "Hi, this is ACME-PLUMBING. Sorry we missed your call!" in page.text  # the preview


async def test_add_a_service(owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal) -> None:
    form = {
        "name": "Water Heater Flush",
        "price": "$1,189.5",
        "duration": "90",
        "aliases": "water heater,  Hot Water Tank , ",
        "priority": "",
        "active": "on",
    }
    added = await owner.post("/app/catalog/items", form, csrf_from="/app/catalog")

    assert added.status_code == 303
    assert added.headers["location"] == "/app/catalog?saved=item#services"
    [item] = await items_of(new_uow, acme)
    assert (item.name, item.price_cents, item.duration_minutes) == (
        "Water Heater Flush",
        118_950,
        90,
    )
    assert item.aliases == ("water heater", "hot water tank")
    assert item.active
    page = await owner.get(added.headers["location"])
    assert "The service was saved." in page.text
    listed = near(page.text, f"item-{item.id}")
    assert "$1,189.50" in listed
    assert "90 min" in listed
    assert "Also called: water heater, hot water tank" in listed


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"price": "about 90 bucks"}, "price", "Write the price in dollars and cents"),
        ({"price": "12.345"}, "price", "Write the price in dollars and cents"),
        ({"price": "250000"}, "price", "Must be between $0.00 and $100,000.00"),
        ({"duration": "1.5"}, "duration", "Write the duration in whole minutes"),
        ({"duration": "2"}, "duration", "Must be between 5 and 1440"),
        ({"name": "   "}, "name", "Must not be empty"),
    ],
)
async def test_a_bad_service_shows_the_reason_and_stores_nothing(
    owner: Browser,
    new_uow: UnitOfWorkFactory,
    acme: Principal,
    changes: dict[str, str],
    field: str,
    reason: str,
) -> None:
    form = {"name": "Drain Cleaning", "price": "129", "duration": "60", "active": "on", **changes}

    refused = await owner.post("/app/catalog/items", form, csrf_from="/app/catalog")

    assert refused.status_code == 422
    assert reason in near(refused.text, f"new-item-{field}-error", 200)
    assert f'id="new-item-{field}" name' in refused.text
    assert 'aria-invalid="true" aria-describedby="new-item-' + field + '-error"' in refused.text
    assert f'value="{form["price"]}"' in refused.text  # what was typed stays
    assert await items_of(new_uow, acme) == []


async def test_a_second_service_of_the_same_name_is_a_conflict(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    await create_item(new_uow(), acme, NewItem("Drain Cleaning", 12_900, 60))
    form = {"name": "drain  cleaning", "price": "99", "duration": "30", "active": "on"}
    refused = await owner.post("/app/catalog/items", form, csrf_from="/app/catalog")
    assert refused.status_code == 409
    assert 'id="new-item-name-error"' in refused.text
    assert len(await items_of(new_uow, acme)) == 1


async def test_edit_a_service(owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal) -> None:
    item = await create_item(
        new_uow(), acme, NewItem("Water Heater Flush", 18_900, 90, ("water heater",))
    )
    path = f"/app/catalog/items/{item.id}"
    form_page = await owner.get(path)
    assert form_page.status_code == 200
    assert "<h1>Edit a service</h1>" in form_page.text
    assert 'value="189.00"' in form_page.text
    assert 'value="water heater"' in form_page.text
    assert re.search(r'id="item-active" name="active" value="on" checked', form_page.text)

    bad = await owner.post(path, {"name": "Flush", "price": "-3", "duration": "90"}, csrf_from=path)
    assert bad.status_code == 422
    assert "Write the price in dollars and cents" in bad.text
    assert await get_item(new_uow(), acme, item.id) == item  # nothing stored

    saved = await owner.post(
        path,
        {"name": "Tank Flush", "price": "210.5", "duration": "75", "aliases": "tank, flush"},
        csrf_from=path,
    )
    assert saved.status_code == 303
    changed = await get_item(new_uow(), acme, item.id)
    assert (changed.name, changed.price_cents, changed.duration_minutes) == (
        "Tank Flush",
        21_050,
        75,
    )
    assert changed.aliases == ("tank", "flush")
    assert not changed.active  # the box was left unchecked
    page = await owner.get("/app/catalog")
    assert "Inactive" in near(page.text, f"item-{item.id}")
    missing = await owner.get(f"/app/catalog/items/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert "That service is not in your catalog." in missing.text


async def test_business_hours_with_a_split_shift(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    saved = await owner.post("/app/catalog/hours", SPLIT, csrf_from="/app/catalog")

    assert saved.status_code == 303
    assert saved.headers["location"] == "/app/catalog?saved=hours#hours"
    assert await get_business_hours(new_uow(), acme) == weekly_hours(
        [("mon", "08:00", "12:00"), ("mon", "13:00", "17:00"), ("sat", "09:00", "24:00")]
    )
    page = await owner.get(saved.headers["location"])
    assert 'name="hours-mon-1-start" value="13:00"' in page.text
    assert 'name="hours-sat-0-end" value="24:00"' in page.text
    assert 'name="hours-mon-2-start" value=""' in page.text  # a row to add one more
    assert 'name="hours-tue-0-start" value=""' in page.text

    cleared = await owner.post(
        "/app/catalog/hours",
        {**SPLIT, "hours-mon-1-start": "", "hours-mon-1-end": ""},
        csrf_from="/app/catalog",
    )
    assert cleared.status_code == 303
    assert len((await get_business_hours(new_uow(), acme)).on(0)) == 1


async def test_overlapping_or_half_filled_hours_are_refused_on_their_row(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    await set_business_hours(new_uow(), acme, [("fri", "08:00", "17:00")])
    before = await get_business_hours(new_uow(), acme)

    overlap = await owner.post(
        "/app/catalog/hours",
        {**SPLIT, "hours-mon-1-start": "11:00"},
        csrf_from="/app/catalog",
    )
    assert overlap.status_code == 422
    assert "Overlaps another mon period (08:00 to 12:00)" in near(
        overlap.text, "hours-mon-1-error", 200
    )
    assert 'name="hours-mon-1-start" value="11:00"' in overlap.text  # as typed

    half = await owner.post(
        "/app/catalog/hours", {"hours-wed-0-start": "08:00"}, csrf_from="/app/catalog"
    )
    assert half.status_code == 422
    assert "Give both the opening and the closing time" in near(half.text, "hours-wed-0-error")

    garbled = await owner.post(
        "/app/catalog/hours",
        {"hours-thu-0-start": "9am", "hours-thu-0-end": "17:00"},
        csrf_from="/app/catalog",
    )
    assert garbled.status_code == 422
    assert "Expected a time like 08:30" in near(garbled.text, "hours-thu-0-error")
    assert await get_business_hours(new_uow(), acme) == before


async def test_closures_added_and_removed(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    day = date.today() + timedelta(days=30)
    added = await owner.post(
        "/app/catalog/closures",
        {"date": day.isoformat(), "reason": "Company picnic"},
        csrf_from="/app/catalog",
    )
    assert added.status_code == 303
    [closure] = (await list_closures(new_uow(), acme, None, 10)).items
    assert (closure.day, closure.reason) == (day, "Company picnic")
    page = await owner.get("/app/catalog")
    listed = near(page.text, f"closure-{closure.id}")
    assert "Company picnic" in listed
    assert f'aria-label="Remove the closure on {day:%a, %b} {day.day}, {day.year}"' in listed

    twice = await owner.post(
        "/app/catalog/closures", {"date": day.isoformat()}, csrf_from="/app/catalog"
    )
    assert twice.status_code == 409
    assert "That date is closed already" in twice.text
    bad = await owner.post("/app/catalog/closures", {"date": "tomorrow"}, csrf_from="/app/catalog")
    assert bad.status_code == 422
    assert "Give the date as YYYY-MM-DD" in bad.text

    removed = await owner.post(
        f"/app/catalog/closures/{closure.id}/delete", csrf_from="/app/catalog"
    )
    assert removed.status_code == 303
    assert (await list_closures(new_uow(), acme, None, 10)).items == ()
    again = await owner.post(f"/app/catalog/closures/{closure.id}/delete", csrf_from="/app/catalog")
    assert again.status_code == 303  # gone already: nothing to do


async def test_the_template_preview_renders_and_counts_segments(owner: Browser) -> None:
    page = await owner.get("/app/catalog")
    assert 'hx-get="/app/catalog/templates/text-back/preview"' in page.text
    assert 'hx-trigger="input changed delay:300ms"' in page.text

    short = await owner.get(
        "/app/catalog/templates/text-back/preview?text_back_template=Hi+from+{business_name}!"
    )
    assert short.status_code == 200
    assert '<p class="preview-text" id="text-back-preview-text">Hi from ACME-PLUMBING!</p>' in (
        short.text
    )
    assert '<output id="text-back-segments" for="text_back_template">1 segment</output>' in (
        short.text
    )
    assert "<html" not in short.text  # a fragment

    long = await owner.get(
        "/app/catalog/templates/text-back/preview",
    )
    assert long.status_code == 200
    assert "Must not be empty" in long.text

    two = await owner.client.get(
        "/app/catalog/templates/text-back/preview",
        params={"text_back_template": "{business_name} " + "x" * 160},
    )
    assert ">2 segments</output>" in two.text
    emoji = await owner.client.get(
        "/app/catalog/templates/text-back/preview",
        params={"text_back_template": "Sorry we missed you 🙏 {business_name}"},
    )
    assert "1 segment (Unicode" in emoji.text

    unknown = await owner.client.get(
        "/app/catalog/templates/text-back/preview",
        params={"text_back_template": "Hi {customer_name}"},
    )
    assert unknown.status_code == 200
    assert "Unknown variable {customer_name}; available: {business_name}" in unknown.text


async def test_the_after_hours_preview_says_when_the_business_opens(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    text = {"after_hours_template": "Closed. Back {next_open}. -{business_name}"}
    without = await owner.client.get("/app/catalog/templates/after-hours/preview", params=text)
    assert "No business hours are set" in without.text
    every_day = [(d, "08:00", "17:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    await set_business_hours(new_uow(), acme, every_day)

    found = await owner.client.get("/app/catalog/templates/after-hours/preview", params=text)

    shown = re.search(r'id="after-hours-preview-text">([^<]*)<', found.text)
    assert shown is not None
    assert re.fullmatch(r"Closed\. Back \w{3} \w{3} \d{1,2}, 8:00 AM\. -ACME-PLUMBING", shown[1]), (
        shown[1]
    )
    assert "No business hours are set" not in found.text
    bad = await owner.client.get(
        "/app/catalog/templates/after-hours/preview", params={"after_hours_template": "{0}"}
    )
    assert "Unknown variable {0}" in bad.text


async def test_save_a_template_or_go_back_to_the_default(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    text = "Hi, {business_name} here: we missed your call. What do you need?"
    saved = await owner.post(
        "/app/catalog/templates/text-back", {"text_back_template": text}, csrf_from="/app/catalog"
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/app/catalog?saved=text-back#text-back"
    _, tenant = await me(new_uow(), acme)
    assert tenant.text_back_template.text == text

    bad = await owner.post(
        "/app/catalog/templates/text-back",
        {"text_back_template": "Hi {name}"},
        csrf_from="/app/catalog",
    )
    assert bad.status_code == 422
    assert "Unknown variable {name}; available: {business_name}" in near(
        bad.text, "text-back-error", 200
    )
    assert ">Hi {name}</textarea>" in bad.text  # as typed
    assert "Unknown variable {name}" in near(bad.text, "text-back-preview-error", 200)
    _, tenant = await me(new_uow(), acme)
    assert tenant.text_back_template.text == text  # unchanged

    reset = await owner.post(
        "/app/catalog/templates/text-back",
        {"text_back_template": "whatever", "action": "default"},
        csrf_from="/app/catalog",
    )
    assert reset.status_code == 303
    _, tenant = await me(new_uow(), acme)
    assert tenant.text_back_template.text == DEFAULT_TEXT_BACK


async def test_a_tech_gets_403(app: Litestar, new_uow: UnitOfWorkFactory, acme: Principal) -> None:
    item = await create_item(new_uow(), acme, NewItem("Drain Cleaning", 12_900, 60))
    async with Browser.on(app) as tech:
        await tech.sign_in(new_uow, acme.tenant_id, TECH)
        page = await tech.get("/app/catalog")
        assert page.status_code == 403
        assert "Not for your role" in page.text
        assert (await tech.get(f"/app/catalog/items/{item.id}")).status_code == 403
        preview = await tech.get("/app/catalog/templates/text-back/preview?text_back_template=x")
        assert preview.status_code == 403
        # With a valid token (from a page a TECH may open), still not theirs to change.
        posted = await tech.post(
            "/app/catalog/items",
            {"name": "Sneaky", "price": "1", "duration": "30", "active": "on"},
            csrf_from="/app/schedule",
        )
        assert posted.status_code == 403
        hours = await tech.post("/app/catalog/hours", SPLIT, csrf_from="/app/schedule")
        assert hours.status_code == 403
    assert [i.name for i in await items_of(new_uow, acme)] == ["Drain Cleaning"]
    assert await get_business_hours(new_uow(), acme) == WeeklyHours()


async def test_posts_without_the_csrf_token_change_nothing(
    owner: Browser, new_uow: UnitOfWorkFactory, acme: Principal
) -> None:
    item = await create_item(new_uow(), acme, NewItem("Drain Cleaning", 12_900, 60))
    form = {"name": "Other", "price": "1", "duration": "30", "active": "on"}
    assert (await owner.post("/app/catalog/items", form)).status_code == 403
    assert (await owner.post(f"/app/catalog/items/{item.id}", form)).status_code == 403
    assert (await owner.post("/app/catalog/hours", SPLIT)).status_code == 403
    assert (await owner.post("/app/catalog/closures", {"date": "2031-01-01"})).status_code == 403
    assert (
        await owner.post("/app/catalog/templates/text-back", {"text_back_template": "x"})
    ).status_code == 403
    assert [i.name for i in await items_of(new_uow, acme)] == ["Drain Cleaning"]
    assert await get_business_hours(new_uow(), acme) == WeeklyHours()
    assert (await list_closures(new_uow(), acme, None, 10)).items == ()
