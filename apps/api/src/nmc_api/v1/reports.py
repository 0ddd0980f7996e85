"""/v1/reports (OWNER): the daily rows (`report_daily`) and a period's summary, both over
tenant-local days `from`..`to` (inclusive). Rows are what the worker last recomputed; a day
never recomputed has no rows (and counts nothing in the summary)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated

import msgspec
from litestar import get
from litestar.params import QueryParameter

from nmc_api.deps import Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.problems import errors
from nmc_domain.reporting import METRICS, DailyRow, Latency, Summary
from nmc_domain.reporting import daily_report as read_daily
from nmc_domain.reporting import summary_report as read_summary
from nmc_domain.reporting.use_cases import MAX_REPORT_DAYS

__all__ = ["report_routes"]

From = Annotated[
    date, QueryParameter(name="from", description="The first tenant-local day (YYYY-MM-DD)")
]
To = Annotated[
    date,
    QueryParameter(
        name="to",
        description=f"The last tenant-local day (YYYY-MM-DD), at most {MAX_REPORT_DAYS} days "
        "after `from` counted inclusively",
    ),
]
# The domain checks the name (422 naming `metric`); the document lists the names.
Metric = Annotated[
    str | None,
    QueryParameter(
        name="metric",
        description="One metric only (default: every metric)",
        schema_extra={"enum": list(METRICS)},
    ),
]


class DayOut(msgspec.Struct):
    """One metric of one day: latencies have p50, p95 (seconds) and bucket counts; funnel
    counts have neither; `total` is recovered revenue's cents (null for the other metrics)."""

    day: date
    metric: str
    count: int
    p50: float | None
    p95: float | None
    buckets: list[int]
    total: int | None

    @classmethod
    def of(cls, row: DailyRow) -> DayOut:
        return cls(row.day, row.metric, row.count, row.p50, row.p95, list(row.buckets), row.total)


class DaysOut(msgspec.Struct):
    days: list[DayOut]

    @classmethod
    def of(cls, rows: Sequence[DailyRow]) -> DaysOut:
        return cls([DayOut.of(row) for row in rows])


class LatencyOut(msgspec.Struct):
    """Seconds: exact for one day, a bucket's upper bound over several (null when none)."""

    count: int
    p50: float | None
    p95: float | None

    @classmethod
    def of(cls, latency: Latency) -> LatencyOut:
        return cls(latency.count, latency.p50, latency.p95)


class SummaryOut(msgspec.Struct):
    """The period's funnel totals and latencies."""

    first: date = msgspec.field(name="from")
    last: date = msgspec.field(name="to")
    missed_calls: int
    text_backs_sent: int
    conversations_replied: int
    quotes: int
    offers: int
    bookings: int
    recovered_revenue_cents: int
    opt_outs: int
    text_back: LatencyOut
    first_response: LatencyOut
    assistant_response: LatencyOut

    @classmethod
    def of(cls, summary: Summary) -> SummaryOut:
        return cls(
            first=summary.first,
            last=summary.last,
            missed_calls=summary.missed_calls,
            text_backs_sent=summary.text_backs_sent,
            conversations_replied=summary.conversations_replied,
            quotes=summary.quotes,
            offers=summary.offers,
            bookings=summary.bookings,
            recovered_revenue_cents=summary.recovered_revenue_cents,
            opt_outs=summary.opt_outs,
            text_back=LatencyOut.of(summary.text_back),
            first_response=LatencyOut.of(summary.first_response),
            assistant_response=LatencyOut.of(summary.assistant_response),
        )


@get(
    "/reports/daily",
    opt=OWNER,
    responses=errors(403),
    summary="Daily rows per tenant-local day and metric (OWNER), by day then metric; a bad "
    "date, range or metric: 422 naming `from`, `to` or `metric`",
)
async def get_daily(
    principal: Caller, deps: Deps, first: From, last: To, metric: Metric = None
) -> DaysOut:
    return DaysOut.of(await read_daily(deps.new_uow(), principal, first, last, metric))


@get(
    "/reports/summary",
    opt=OWNER,
    responses=errors(403),
    summary="A period's funnel totals and latencies (OWNER), merged from its daily rows",
)
async def get_summary(principal: Caller, deps: Deps, first: From, last: To) -> SummaryOut:
    return SummaryOut.of(await read_summary(deps.new_uow(), principal, first, last))


report_routes = [get_daily, get_summary]
