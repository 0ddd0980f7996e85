"""Reports (OWNER): a chosen period's funnel and its days' charts (text-back p95, people's
first response p95, bookings, recovered revenue), drawn as SVG on the server, each with a
table of the same numbers. The rows are the worker's daily rollups (`report_daily`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Annotated

import attrs
from litestar import MediaType, get
from litestar.params import QueryParameter
from litestar.response import Template

from nmc_api.deps import Deps
from nmc_api.web.charts import Bar, bar_chart, funnel_chart, number
from nmc_api.web.chrome import page
from nmc_api.web.session import Viewing
from nmc_domain.conversation.texts import money
from nmc_domain.reporting import DailyRow, Latency, Summary, daily_report
from nmc_domain.reporting.use_cases import recent_period, summarize
from nmc_domain.shared.errors import InvalidInput

__all__ = ["Chart", "Report", "report_of", "report_pages"]

From = Annotated[str | None, QueryParameter(name="from")]
To = Annotated[str | None, QueryParameter(name="to")]
# Recovered revenue is summed in cents across items; the businesses NMC serves price in USD.
CURRENCY = "USD"
# A latency chart's unit, by its largest value: (below, seconds per unit, unit, short).
_UNITS = (
    (120.0, 1.0, "seconds", "s"),
    (7200.0, 60.0, "minutes", "min"),
    (math.inf, 3600.0, "hours", "h"),
)
NO_ROW = "no data"  # the worker never recomputed the day
NONE = "none"  # nothing to measure that day (no missed call, nobody replied)


@attrs.frozen
class Chart:
    """One chart: its SVG and the table of its numbers."""

    id: str
    title: str
    svg: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@attrs.frozen
class Report:
    """What the page shows for a period."""

    first: date
    last: date
    summary: Summary
    funnel: Chart
    charts: tuple[Chart, ...]

    @property
    def tiles(self) -> list[tuple[str, str]]:
        s = self.summary
        return [
            ("Missed calls", str(s.missed_calls)),
            ("Bookings", str(s.bookings)),
            ("Recovered revenue", money(s.recovered_revenue_cents, CURRENCY)),
            ("Text-back p95", _period_latency(s.text_back, self.first == self.last)),
            ("First response p95", _period_latency(s.first_response, self.first == self.last)),
        ]


def _period_latency(latency: Latency, one_day: bool) -> str:
    if latency.p95 is None:
        return NONE
    # Over several days the domain reads p95 off merged buckets: an upper bound.
    return _seconds(latency.p95) if one_day else f"≤ {_seconds(latency.p95)}"


def _seconds(value: float) -> str:
    _, per, _, short = next(unit for unit in _UNITS if value < unit[0])
    return f"{_decimal(value / per)} {short}"


def _decimal(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def _table_day(day: date) -> str:
    return f"{day:%a %b} {day.day}"


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


Rows = dict[tuple[date, str], DailyRow]


def _latency_chart(chart_id: str, title: str, metric: str, days: list[date], by: Rows) -> Chart:
    found = [by.get((day, metric)) for day in days]
    largest = max((row.p95 for row in found if row and row.p95 is not None), default=0.0)
    _, per, unit, short = next(u for u in _UNITS if largest < u[0])
    bars, rows = [], []
    for day, row in zip(days, found, strict=True):
        p95 = None if row is None or row.p95 is None else row.p95 / per
        shown = NO_ROW if row is None else NONE if p95 is None else f"{_decimal(p95)} {short}"
        bars.append(Bar(_day_label(day), p95, shown))
        rows.append((_table_day(day), shown, "—" if row is None else str(row.count)))
    svg = bar_chart(chart_id, f"{title} ({unit})", bars, axis=lambda v: f"{number(v)} {short}")
    return Chart(chart_id, title, svg, ("Day", "p95", "How many"), tuple(rows))


def _count_chart(
    chart_id: str,
    title: str,
    days: list[date],
    by: Rows,
    value: Callable[[DailyRow], int],
    shown: Callable[[float], str],
    metric: str,
) -> Chart:
    bars, rows = [], []
    for day in days:
        row = by.get((day, metric))
        amount = None if row is None else value(row)
        text = NO_ROW if amount is None else shown(amount)
        bars.append(Bar(_day_label(day), amount, text))
        rows.append((_table_day(day), text))
    svg = bar_chart(chart_id, title, bars, axis=shown)
    return Chart(chart_id, title, svg, ("Day", title), tuple(rows))


def _funnel(summary: Summary) -> Chart:
    steps = [
        ("Missed calls", summary.missed_calls),
        ("Text-backs sent", summary.text_backs_sent),
        ("Replied", summary.conversations_replied),
        ("Quotes", summary.quotes),
        ("Offers", summary.offers),
        ("Bookings", summary.bookings),
    ]
    bars = [Bar(label, count, str(count)) for label, count in steps]
    svg = funnel_chart("chart-funnel", "From missed calls to bookings", bars)
    rows = tuple((label, str(count)) for label, count in steps)
    return Chart("chart-funnel", "From missed calls to bookings", svg, ("Step", "Count"), rows)


def report_of(first: date, last: date, rows: Sequence[DailyRow]) -> Report:
    """The period's charts from its daily rows."""
    days, by = _days(first, last), {(row.day, row.metric): row for row in rows}
    summary = summarize(first, last, rows)
    charts = (
        _latency_chart("chart-text-back", "Text-back p95", "text_back_seconds", days, by),
        _latency_chart(
            "chart-first-response",
            "People's first response p95",
            "first_response_seconds",
            days,
            by,
        ),
        _count_chart(
            "chart-bookings",
            "Bookings",
            days,
            by,
            lambda row: row.count,
            lambda v: number(v),
            "bookings",
        ),
        _count_chart(
            "chart-revenue",
            "Recovered revenue",
            days,
            by,
            lambda row: row.total or 0,
            lambda v: money(round(v), CURRENCY),
            "recovered_revenue_cents",
        ),
    )
    return Report(first, last, summary, _funnel(summary), charts)


def _date(field: str, text: str | None, default: date, errors: dict[str, str]) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[field] = "must be a date (YYYY-MM-DD)"
        return default


@get("/reports", media_type=MediaType.HTML)
async def reports(deps: Deps, viewer: Viewing, first: From = None, last: To = None) -> Template:
    """The period `from`..`to` (tenant-local days; the last 14 by default); a bad date or
    range: the form again with the reason next to the field (422)."""
    viewer.require_owner()
    default_first, default_last = await recent_period(deps.new_uow(), viewer.principal)
    errors: dict[str, str] = {}
    start = _date("from", first, default_first, errors)
    end = _date("to", last, default_last, errors)
    form = {"from": first or start.isoformat(), "to": last or end.isoformat()}
    if not errors:
        try:
            rows = await daily_report(deps.new_uow(), viewer.principal, start, end, None)
        except InvalidInput as exc:
            errors[exc.field] = exc.reason
    if errors:
        return await page(
            deps, viewer, "reports.html", form=form, errors=errors, report=None, status_code=422
        )
    report = report_of(start, end, rows)
    return await page(deps, viewer, "reports.html", form=form, errors={}, report=report)


report_pages = [reports]
