"""The schedule page of the web inbox on real PostgreSQL: a technician's week (Monday to
Sunday in the tenant's zone, Chicago) with appointments and busy blocks (and where each block
came from) on the right day; cancel frees the time; reschedule moves the appointment, a taken
or impossible time is refused with the reason next to the field; any role may act; no CSRF
token, no change."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.bootstrap import build_app
from nmc_api.web.schedule_view import DASH
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.catalog.use_cases import NewItem, create_item
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.model import Technician, new_busy_block
from nmc_domain.scheduling.reservations import HoldRequest, book_hold, hold_slot
from nmc_domain.scheduling.setup import add_busy_block, add_technician, set_business_hours
from nmc_domain.scheduling.week import technician_week
from nmc_domain.shared.errors import Conflict
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, api_settings
from tests.support.tenants import onboard
from tests.support.web import Browser, web_settings

CHICAGO = ZoneInfo("America/Chicago")
TECH = "mo.tech@acme-plumbing.example"
CALLER = "+14155550123"


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


def next_monday() -> date:
    """A Monday 3 to 9 days ahead: inside the default 14-day horizon, past any notice."""
    today = datetime.now(CHICAGO).date()
    return today + timedelta(days=3 + (7 - (today + timedelta(days=3)).weekday()) % 7)


def at(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=CHICAGO)


@attrs.frozen
class Shop:
    """ACME-PLUMBING: a 90-minute item, Dana and Lee, open 8 to 5 on weekdays."""

    owner: Principal
    item: ServiceItem
    dana: Technician
    lee: Technician
    monday: date

    def week(self, technician: Technician, day: date | None = None) -> str:
        return f"/app/schedule?technician={technician.id}&week={(day or self.monday).isoformat()}"


@pytest.fixture
async def shop(new_uow: UnitOfWorkFactory) -> Shop:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    owner = Principal(OWNER, tenant.id)
    item = await create_item(
        new_uow(), owner, NewItem("Water Heater Flush", 18_900, 90, ("water heater",))
    )
    dana = await add_technician(new_uow(), owner, name="Dana Reyes")
    lee = await add_technician(new_uow(), owner, name="Lee Park")
    weekdays = ("mon", "tue", "wed", "thu", "fri")
    await set_business_hours(new_uow(), owner, [(d, "08:00", "17:00") for d in weekdays])
    await add_user_for_tenant(new_uow(), tenant.id, email=TECH, role="TECH")
    return Shop(owner, item, dana, lee, next_monday())


async def book(
    new_uow: UnitOfWorkFactory, shop: Shop, technician: Technician, start: datetime
) -> Booking:
    held = await hold_slot(
        new_uow(), shop.owner, HoldRequest(shop.item.id, technician.id, start, CALLER)
    )
    return (await book_hold(new_uow(), shop.owner, held.booking.id, None)).booking


async def external_block(
    new_uow: UnitOfWorkFactory, shop: Shop, start: datetime, end: datetime, source: str
) -> None:
    """A busy block as a calendar sync stores it (source and external id)."""
    block = new_busy_block(
        tenant_id=shop.owner.tenant_id, technician_id=shop.dana.id, start=start, end=end
    )
    async with new_uow() as uow:
        await uow.bind_tenant(shop.owner.tenant_id)
        await uow.busy_blocks.add(attrs.evolve(block, source=source, external_id=f"{source}-1"))
        await uow.commit()


@pytest.fixture
async def owner(app: Litestar, new_uow: UnitOfWorkFactory, shop: Shop) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, shop.owner.tenant_id, OWNER)
        yield browser


def day_of(html: str, day: date) -> str:
    """The markup of one day of the week view."""
    marker = f'id="day-{day.isoformat()}"'
    assert marker in html, f"no {day} on the page"
    return html.split(marker, 1)[1].split('id="day-', 1)[0]


def entry(html: str, element_id: str) -> str:
    """One entry (<li id=...>) of the week view."""
    return html.split(f'id="{element_id}"', 1)[1].split("</li>", 1)[0]


async def status_of(new_uow: UnitOfWorkFactory, shop: Shop, booking: Booking) -> Booking:
    async with new_uow() as uow:
        await uow.bind_tenant(shop.owner.tenant_id)
        found = await uow.bookings.get(shop.owner.tenant_id, booking.id)
    assert found is not None
    return found


async def test_the_week_shows_appointments_and_busy_blocks_on_their_local_day(
    owner: Browser, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    tuesday = shop.monday + timedelta(days=1)
    job = await book(new_uow, shop, shop.dana, at(shop.monday, "09:00"))
    await add_busy_block(
        new_uow(),
        shop.owner,
        technician_id=shop.dana.id,
        start=at(shop.monday, "13:00"),
        end=at(shop.monday, "15:00"),
    )
    # 11 PM Monday to 1 AM Tuesday in Chicago: Tuesday 04:00-06:00 UTC, on both local days.
    await external_block(new_uow, shop, at(shop.monday, "23:00"), at(tuesday, "01:00"), "google")
    await external_block(new_uow, shop, at(tuesday, "10:00"), at(tuesday, "11:00"), "jobber")
    wednesday = shop.monday + timedelta(days=2)
    offer = await hold_slot(
        new_uow(),
        shop.owner,
        HoldRequest(shop.item.id, shop.dana.id, at(wednesday, "15:00"), CALLER),
    )

    page = await owner.get(shop.week(shop.dana, shop.monday + timedelta(days=3)))

    assert page.status_code == 200, page.text
    assert "<h1>Schedule</h1>" in page.text
    assert "Dana Reyes: " in page.text
    monday, tue = day_of(page.text, shop.monday), day_of(page.text, tuesday)
    appointment = entry(monday, f"appointment-{job.id}")
    assert 'data-status="booked"' in appointment
    assert f"9:00 AM {DASH} 10:30 AM" in appointment
    assert "Water Heater Flush" in appointment
    assert CALLER in appointment
    assert "$189.00" in appointment
    assert re.search(rf'data-source="manual">\s*<p><time[^>]*>1:00 PM {DASH} 3:00 PM', monday)
    assert "Added by hand" in monday
    assert re.search(rf'data-source="google">\s*<p><time[^>]*>11:00 PM {DASH} midnight', monday)
    assert re.search(rf'data-source="google">\s*<p><time[^>]*>midnight {DASH} 1:00 AM', tue)
    assert "From Google Calendar" in tue
    assert re.search(rf'data-source="jobber">\s*<p><time[^>]*>10:00 AM {DASH} 11:00 AM', tue)
    assert "From Jobber" in tue
    assert "appointment-" not in tue
    held = entry(day_of(page.text, wednesday), f"hold-{offer.booking.id}")
    assert f"3:00 PM {DASH} 4:30 PM" in held
    assert "Held" in held
    assert f'Offered to <span class="phone">{CALLER}</span>; held until' in held
    # The previous and next weeks, and Lee's week (nothing booked).
    assert f"week={(shop.monday - timedelta(days=7)).isoformat()}" in page.text
    assert f"week={(shop.monday + timedelta(days=7)).isoformat()}" in page.text
    lee = await owner.get(shop.week(shop.lee))
    assert lee.status_code == 200
    assert "Lee Park: " in lee.text
    assert "appointment-" not in lee.text
    assert "data-source=" not in lee.text


async def test_a_tech_may_look_at_the_schedule_and_this_week_is_the_default(
    app: Litestar, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    async with Browser.on(app) as tech:
        await tech.sign_in(new_uow, shop.owner.tenant_id, TECH)
        page = await tech.get("/app/schedule")
    assert page.status_code == 200
    week = await technician_week(new_uow(), shop.owner)
    assert week.technician == shop.dana  # the first by name
    assert f'id="day-{week.today.isoformat()}"' in page.text
    assert 'aria-current="date"' in page.text
    assert 'href="/app/catalog"' not in page.text  # not in a TECH's navigation


async def test_a_bad_technician_or_week_is_shown_as_such(owner: Browser, shop: Shop) -> None:
    unknown = await owner.get(f"/app/schedule?technician={shop.item.id}")
    assert unknown.status_code == 404
    assert "That technician is not on the schedule" in unknown.text
    assert "Dana Reyes: " in unknown.text
    garbled = await owner.get("/app/schedule?technician=nope&week=someday")
    assert garbled.status_code == 422
    assert "The week must be a date" in garbled.text


async def test_cancel_frees_the_time(
    owner: Browser, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    job = await book(new_uow, shop, shop.dana, at(shop.monday, "09:00"))
    week = shop.week(shop.dana)
    back = {"back_technician": str(shop.dana.id), "back_week": shop.monday.isoformat()}

    canceled = await owner.post(f"/app/schedule/appointments/{job.id}/cancel", back, csrf_from=week)

    assert canceled.status_code == 303
    assert canceled.headers["location"] == (
        f"/app/schedule?technician={shop.dana.id}&week={shop.monday.isoformat()}&done=canceled"
    )
    page = await owner.get(canceled.headers["location"])
    assert "The appointment was canceled" in page.text
    shown = entry(day_of(page.text, shop.monday), f"appointment-{job.id}")
    assert 'data-status="canceled"' in shown
    assert "Canceled" in shown
    assert "/cancel" not in shown  # nothing more to do with it
    assert (await status_of(new_uow, shop, job)).status is BookingStatus.CANCELED
    again = await book(new_uow, shop, shop.dana, at(shop.monday, "09:00"))  # the time is free
    assert again.status is BookingStatus.BOOKED


async def test_a_tech_may_cancel_and_htmx_gets_the_week(
    app: Litestar, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    job = await book(new_uow, shop, shop.dana, at(shop.monday, "10:00"))
    async with Browser.on(app) as tech:
        await tech.sign_in(new_uow, shop.owner.tenant_id, TECH)
        week = await tech.get(shop.week(shop.dana))
        assert 'hx-confirm="Cancel Water Heater Flush' in week.text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', week.text)
        assert token is not None
        # As htmx sends it: the token in the header, then it follows the 303 to the week.
        response = await tech.client.post(
            f"/app/schedule/appointments/{job.id}/cancel",
            data={"back_technician": str(shop.dana.id), "back_week": shop.monday.isoformat()},
            headers={"HX-Request": "true", "X-CSRFToken": token[1]},
            follow_redirects=True,
        )
    assert response.status_code == 200
    assert 'id="week"' in response.text
    assert 'data-status="canceled"' in response.text
    assert (await status_of(new_uow, shop, job)).status is BookingStatus.CANCELED


async def test_reschedule_moves_the_appointment(
    owner: Browser, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    job = await book(new_uow, shop, shop.dana, at(shop.monday, "09:00"))
    tuesday = shop.monday + timedelta(days=1)
    form = {
        "technician_id": str(shop.lee.id),
        "date": tuesday.isoformat(),
        "time": "11:00",
        "back_technician": str(shop.dana.id),
        "back_week": shop.monday.isoformat(),
    }

    moved = await owner.post(
        f"/app/schedule/appointments/{job.id}/reschedule", form, csrf_from=shop.week(shop.dana)
    )

    assert moved.status_code == 303, moved.text
    assert moved.headers["location"] == (
        f"/app/schedule?technician={shop.lee.id}&week={tuesday.isoformat()}&done=rescheduled"
    )
    lee = await owner.get(moved.headers["location"])
    assert "The appointment was moved" in lee.text
    shown = entry(day_of(lee.text, tuesday), f"appointment-{job.id}")
    assert f"11:00 AM {DASH} 12:30 PM" in shown
    dana = await owner.get(shop.week(shop.dana))
    assert f"appointment-{job.id}" not in dana.text
    stored = await status_of(new_uow, shop, job)
    assert (stored.technician_id, stored.start) == (shop.lee.id, at(tuesday, "11:00"))


async def test_a_taken_or_impossible_time_is_refused_next_to_the_field(
    owner: Browser, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    job = await book(new_uow, shop, shop.dana, at(shop.monday, "09:00"))
    other = await book(new_uow, shop, shop.dana, at(shop.monday, "14:00"))
    path = f"/app/schedule/appointments/{job.id}/reschedule"
    back = {"back_technician": str(shop.dana.id), "back_week": shop.monday.isoformat()}
    form = {"technician_id": str(shop.dana.id), "date": shop.monday.isoformat(), **back}
    week = shop.week(shop.dana)

    taken = await owner.post(path, {**form, "time": "14:30"}, csrf_from=week)

    assert taken.status_code == 409
    assert f'id="time-{job.id}-error">This time is taken</p>' in taken.text
    assert re.search(
        rf'<details class="reschedule" open>\s*<summary>Reschedule</summary>\s*'
        rf'<form method="post" action="{path}#appointment-{job.id}"',
        taken.text,
    )
    assert 'value="14:30"' in taken.text  # what was typed stays
    stored = await status_of(new_uow, shop, job)
    assert stored.start == at(shop.monday, "09:00")  # the old time kept
    assert (await status_of(new_uow, shop, other)).start == at(shop.monday, "14:00")

    closed = await owner.post(path, {**form, "time": "16:30"}, csrf_from=week)
    assert closed.status_code == 422
    assert "This time is outside business hours" in closed.text

    garbled = await owner.post(path, {**form, "time": "25:00", "date": "soon"}, csrf_from=week)
    assert garbled.status_code == 422
    assert "Give the time as HH:MM" in garbled.text
    assert "Give the date as YYYY-MM-DD" in garbled.text
    assert (await status_of(new_uow, shop, job)).start == at(shop.monday, "09:00")

    with pytest.raises(Conflict):  # and the domain agrees the time is taken
        await book(new_uow, shop, shop.dana, at(shop.monday, "14:30"))

    canceled = await owner.post(
        f"/app/schedule/appointments/{other.id}/cancel", back, csrf_from=week
    )
    assert canceled.status_code == 303
    late = await owner.post(
        f"/app/schedule/appointments/{other.id}/reschedule",
        {**form, "time": "15:00"},
        csrf_from=week,
    )
    assert late.status_code == 409
    assert "A canceled booking cannot be rescheduled" in near_error(late.text)
    missing = await owner.post(
        f"/app/schedule/appointments/{shop.item.id}/reschedule",
        {**form, "time": "15:00"},
        csrf_from=week,
    )
    assert missing.status_code == 404
    assert "That appointment is no longer on the schedule." in near_error(missing.text)


def near_error(html: str) -> str:
    """The page's error message (at the top of the week)."""
    return html.split('id="schedule-error">', 1)[1].split("</p>", 1)[0]


async def test_canceling_what_is_not_an_appointment_says_so(
    owner: Browser, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    offer = await hold_slot(
        new_uow(),
        shop.owner,
        HoldRequest(shop.item.id, shop.dana.id, at(shop.monday, "11:00"), CALLER),
    )
    week = shop.week(shop.dana)
    back = {"back_technician": str(shop.dana.id), "back_week": shop.monday.isoformat()}
    path = f"/app/schedule/appointments/{offer.booking.id}/cancel"
    plain = await owner.post(path, back, csrf_from=week)
    assert plain.status_code == 404
    assert near_error(plain.text) == "That appointment is not on the schedule."
    token = re.search(r'"X-CSRFToken": "([^"]+)"', (await owner.get(week)).text)
    assert token is not None
    htmx = await owner.client.post(
        path, data=back, headers={"HX-Request": "true", "X-CSRFToken": token[1]}
    )
    assert htmx.status_code == 200  # htmx swaps the week with the reason in it
    assert 'id="week"' in htmx.text
    assert near_error(htmx.text) == "That appointment is not on the schedule."
    assert (await status_of(new_uow, shop, offer.booking)).status is BookingStatus.HELD


async def test_posts_without_the_csrf_token_change_nothing(
    owner: Browser, shop: Shop, new_uow: UnitOfWorkFactory
) -> None:
    job = await book(new_uow, shop, shop.dana, at(shop.monday, "09:00"))
    cancel = await owner.post(f"/app/schedule/appointments/{job.id}/cancel")
    move = await owner.post(
        f"/app/schedule/appointments/{job.id}/reschedule",
        {"technician_id": str(shop.lee.id), "date": shop.monday.isoformat(), "time": "11:00"},
    )
    assert (cancel.status_code, move.status_code) == (403, 403)
    stored = await status_of(new_uow, shop, job)
    assert (stored.status, stored.technician_id) == (BookingStatus.BOOKED, shop.dana.id)
