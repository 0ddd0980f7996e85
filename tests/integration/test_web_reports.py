"""The reports page of the web inbox on real PostgreSQL: daily rows stored through the
reporting repository (as the worker's `recompute_day` stores them) drawn as server-rendered
SVG with the bar heights worked out by hand below, the funnel of the period, each chart's
table, the default period, bad dates and ranges next to their field, OWNER only."""

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
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.reporting import METRICS, DailyRow
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, api_settings
from tests.support.tenants import onboard
from tests.support.web import Browser, web_settings

MAR_9, MAR_10, MAR_11, MAR_12 = (date(2026, 3, d) for d in (9, 10, 11, 12))
PERIOD = "/app/reports?from=2026-03-09&to=2026-03-12"


def buckets(*seconds: float) -> tuple[int, ...]:
    """Bucket counts by hand: upper bounds 1, 2, 5, 10, 15, 30, 60, 120, 300, ... s."""
    bounds = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))
    return tuple(
        sum(1 for s in seconds if low < s <= high)
        for low, high in zip((0, *bounds[:-1]), bounds, strict=True)
    )


def day(on: date, **counts: int) -> list[DailyRow]:
    """Every metric of a day: funnel counts as given (zeros else), no latency."""
    return [
        DailyRow(on, metric, counts.get(metric, 0), total=0 if metric.endswith("cents") else None)
        for metric in METRICS
        if not metric.endswith("_seconds")
    ]


# Mar 9: 3 missed calls, text-backs after 3 s and 7 s (p95 6.8 s), one person answering
# after 90 s. Mar 10: 5 missed calls, a text-back after 4 s, people answering after 20 s and
# 30 s (p95 stored as 30 s), 3 bookings worth $567. Mar 11: nothing measured, 1 booking
# worth $189. Mar 12: never recomputed (no rows at all).
ROWS = [
    *day(MAR_9, missed_calls=3, text_backs_sent=3, conversations_replied=1, quotes=1, offers=1),
    DailyRow(MAR_9, "text_back_seconds", 2, 5.0, 6.8, buckets(3, 7)),
    DailyRow(MAR_9, "first_response_seconds", 1, 90.0, 90.0, buckets(90)),
    *[
        row
        for row in day(
            MAR_10,
            missed_calls=5,
            text_backs_sent=5,
            conversations_replied=3,
            quotes=1,
            offers=1,
            bookings=3,
        )
        if row.metric != "recovered_revenue_cents"
    ],
    DailyRow(MAR_10, "recovered_revenue_cents", 3, total=56_700),
    DailyRow(MAR_10, "text_back_seconds", 1, 4.0, 4.0, buckets(4)),
    DailyRow(MAR_10, "first_response_seconds", 2, 25.0, 30.0, buckets(20, 30)),
    *[row for row in day(MAR_11, bookings=1) if row.metric != "recovered_revenue_cents"],
    DailyRow(MAR_11, "recovered_revenue_cents", 1, total=18_900),
    DailyRow(MAR_11, "text_back_seconds", 0, None, None, buckets()),
    DailyRow(MAR_11, "first_response_seconds", 0, None, None, buckets()),
]


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def acme(new_uow: UnitOfWorkFactory) -> uuid.UUID:
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.reports.save_days(tenant.id, ROWS)
        await uow.commit()
    return tenant.id


@pytest.fixture
async def owner(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, acme, OWNER)
        yield browser


def svg_of(html: str, chart_id: str) -> str:
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', html, re.S)
    assert found is not None, f"no chart {chart_id}"
    return found[0]


def bars(svg: str) -> list[dict[str, str]]:
    """Each bar's attributes."""
    return [
        dict(re.findall(r'([a-z-]+)="([^"]*)"', rect)) for rect in re.findall(r"<rect [^>]*>", svg)
    ]


def heights(svg: str) -> dict[str, str]:
    return {bar["data-label"]: bar["height"] for bar in bars(svg)}


async def test_the_charts_draw_the_days_at_their_heights(owner: Browser) -> None:
    page = await owner.get(PERIOD)
    assert page.status_code == 200, page.text
    html = page.text
    assert "<h1>Reports</h1>" in html

    # Plot 180 high. Text-back p95 6.8 s and 4 s on a 0..10 s scale: 122.4 and 72; Mar 11
    # (nobody to text back) and Mar 12 (no rows) draw no bar.
    text_back = svg_of(html, "chart-text-back")
    assert heights(text_back) == {"Mar 9": "122.4", "Mar 10": "72"}
    # Four days over 576 wide: slots of 144, bars 100.8 wide starting 21.6 into the slot
    # (the plot starts at 56); the baseline is at 12 + 180 = 192.
    first, second = bars(text_back)
    assert (first["x"], first["y"], first["width"]) == ("77.6", "69.6", "100.8")
    assert (second["x"], second["y"]) == ("221.6", "120")
    assert ">10 s</text>" in text_back  # the scale's top
    # People's first response: 90 s and 30 s on 0..100 s: 162 and 54.
    assert heights(svg_of(html, "chart-first-response")) == {"Mar 9": "162", "Mar 10": "54"}
    # Bookings 0, 3, 1 on 0..5: 0, 108, 36.
    assert heights(svg_of(html, "chart-bookings")) == {
        "Mar 9": "0",
        "Mar 10": "108",
        "Mar 11": "36",
    }
    # Revenue $0, $567, $189 on 0..$1,000: 0, 102.06, 34.02.
    revenue = svg_of(html, "chart-revenue")
    assert heights(revenue) == {"Mar 9": "0", "Mar 10": "102.06", "Mar 11": "34.02"}
    assert ">$1,000.00</text>" in revenue


async def test_the_funnel_and_the_period_totals(owner: Browser) -> None:
    html = (await owner.get(PERIOD)).text

    funnel = svg_of(html, "chart-funnel")
    # 8 missed calls fill the 430 wide bar: 8 texted back 430, 4 replied 215, 2 quotes and
    # 2 offers 107.5, 4 bookings 215; the counts written after the bars.
    assert [(b["data-label"], b["width"]) for b in bars(funnel)] == [
        ("Missed calls", "430"),
        ("Text-backs sent", "430"),
        ("Replied", "215"),
        ("Quotes", "107.5"),
        ("Offers", "107.5"),
        ("Bookings", "215"),
    ]
    assert re.findall(r'<text class="count"[^>]*>([^<]*)</text>', funnel) == [
        "8",
        "8",
        "4",
        "2",
        "2",
        "4",
    ]
    tiles = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", html))
    assert tiles == {
        "Missed calls": "8",
        "Bookings": "4",
        "Recovered revenue": "$756.00",
        # Several days: read off the merged buckets (3 s, 7 s, 4 s: the 10 s bucket; 90 s,
        # 20 s, 30 s: the 120 s one).
        "Text-back p95": "≤ 10 s",
        "First response p95": "≤ 2 min",
    }


async def test_each_chart_is_labelled_and_has_a_table(owner: Browser) -> None:
    html = (await owner.get(PERIOD)).text

    for chart_id in (
        "chart-funnel",
        "chart-text-back",
        "chart-first-response",
        "chart-bookings",
        "chart-revenue",
    ):
        svg = svg_of(html, chart_id)
        assert 'role="img"' in svg
        assert re.search(r'aria-label="[^"]+"', svg)
        assert "<title>" in svg
    assert html.count('<details class="chart-data">') == 5
    # The text-back table: each day, its p95 and how many; Mar 12 was never recomputed.
    table = html[html.index("Text-back p95: the numbers") :]
    table = table[: table.index("</table>")]
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", table)
    assert cells == [
        "Day", "p95", "How many",
        "Mon Mar 9", "6.8 s", "2",
        "Tue Mar 10", "4 s", "1",
        "Wed Mar 11", "none", "0",
        "Thu Mar 12", "no data", "—",
    ]  # fmt: skip


async def test_a_single_day_keeps_exact_percentiles(owner: Browser) -> None:
    html = (await owner.get("/app/reports?from=2026-03-09&to=2026-03-09")).text

    tiles = dict(re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", html))
    assert (tiles["Text-back p95"], tiles["First response p95"]) == ("6.8 s", "90 s")
    # One day: one bar, filling the plot's width but its margins (576 x 0.7 = 403.2).
    [bar] = bars(svg_of(html, "chart-text-back"))
    assert (bar["x"], bar["width"], bar["height"]) == ("142.4", "403.2", "122.4")


async def test_the_default_period_is_the_last_14_days_in_the_tenants_zone(owner: Browser) -> None:
    page = await owner.get("/app/reports")

    assert page.status_code == 200
    start = re.search(r'id="from" name="from" value="([^"]+)"', page.text)
    end = re.search(r'id="to" name="to" value="([^"]+)"', page.text)
    assert start is not None
    assert end is not None
    first, last = date.fromisoformat(start[1]), date.fromisoformat(end[1])
    assert last - first == timedelta(days=13)
    # Fourteen day slots on the text-back chart, no bar (nothing stored for these days).
    text_back = svg_of(page.text, "chart-text-back")
    assert bars(text_back) == []
    assert ">No data</text>" in text_back


@pytest.mark.parametrize(
    ("query", "field", "reason"),
    [
        ("from=2026-13-01&to=2026-03-12", "from", "Must be a date (YYYY-MM-DD)"),
        ("from=2026-03-09&to=soon", "to", "Must be a date (YYYY-MM-DD)"),
        ("from=2026-03-12&to=2026-03-09", "to", "Must not be before from"),
        ("from=2025-01-01&to=2026-03-09", "to", "A report spans at most 366 days"),
    ],
)
async def test_a_bad_date_or_range_is_said_next_to_its_field(
    owner: Browser, query: str, field: str, reason: str
) -> None:
    page = await owner.get(f"/app/reports?{query}")

    assert page.status_code == 422
    assert f'<p class="error" id="{field}-error">{reason}</p>' in page.text
    assert f'id="{field}" name="{field}"' in page.text
    assert "<svg" not in page.text
    assert "Traceback" not in page.text


async def test_a_tech_gets_the_403_page(
    app: Litestar, new_uow: UnitOfWorkFactory, acme: uuid.UUID
) -> None:
    tech = "mo.tech@acme-plumbing.example"
    await add_user_for_tenant(new_uow(), acme, email=tech, role="TECH")
    async with Browser.on(app) as browser:
        await browser.sign_in(new_uow, acme, tech)
        refused = await browser.get(PERIOD)

    assert refused.status_code == 403
    assert "Not for your role" in refused.text
    assert "<svg" not in refused.text
