"""Reporting's use cases: recompute a tenant-local day, the worker's recent days, and reads.

Recomputing is idempotent: episodes are written once (their first-found end stays), and a
day's rows are replaced whole, zeros included, so a recompute after a late event (a booking,
a cancellation) changes that day's rows only, and a second recompute changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.reporting.days import day_bounds, local_day
from nmc_domain.reporting.episodes import episodes_of
from nmc_domain.reporting.model import (
    LATENCY_METRICS,
    METRICS,
    DailyRow,
    ReportingSettings,
    Summary,
)
from nmc_domain.reporting.ports import ReportingUnitOfWork, ReportingUnitOfWorkFactory
from nmc_domain.reporting.rollup import daily_rows, merge_latency, merge_totals
from nmc_domain.shared.errors import InvalidInput, NotFound

__all__ = [
    "DEFAULT_REPORT_DAYS",
    "MAX_REPORT_DAYS",
    "RECENT_DAYS",
    "daily_report",
    "recent_period",
    "recompute_booking_day",
    "recompute_day",
    "recompute_recent",
    "summarize",
    "summary_report",
    "tenant_daily_report",
    "tenant_summary_report",
]

# A report spans at most a year (a leap year's days).
MAX_REPORT_DAYS = 366
# The period an owner sees when choosing none: the last two weeks, today included.
DEFAULT_REPORT_DAYS = 14
# The worker recomputes today so far and the three days before it, in the tenant's zone.
RECENT_DAYS = 3
_DEFAULTS = ReportingSettings()


async def _zone(uow: ReportingUnitOfWork, tenant_id: UUID) -> ZoneInfo:
    tenant = await uow.tenants.get(tenant_id)
    if tenant is None:
        raise NotFound("tenant", tenant_id)
    return ZoneInfo(tenant.timezone)


async def recompute_day(
    uow: ReportingUnitOfWork,
    tenant_id: UUID,
    day: date,
    *,
    settings: ReportingSettings = _DEFAULTS,
) -> Sequence[DailyRow]:
    """Derive and store the episodes of the conversations active that tenant-local day, then
    replace the day's rows; returns them. Running it again gives the same rows."""
    rows, _ = await _recompute(uow, tenant_id, day, settings)
    return rows


async def _recompute(
    uow: ReportingUnitOfWork, tenant_id: UUID, day: date, settings: ReportingSettings
) -> tuple[Sequence[DailyRow], set[date]]:
    """The day's rows, and the earlier days whose episodes ended on this day (a reply days
    after the contact wrote): their rows must be recomputed too."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        zone = await _zone(uow, tenant_id)
        start, end = day_bounds(day, zone)
        activity = await uow.reports.activity(tenant_id, start, end)
        found = [e for timeline in activity.timelines for e in episodes_of(tenant_id, timeline)]
        await uow.reports.add_episodes(found)
        stored = await uow.reports.episodes(tenant_id, start, end)
        rows = daily_rows(day, start, end, stored, activity, settings)
        await uow.reports.save_days(tenant_id, rows)
        await uow.commit()
    earlier = {
        local_day(e.started_at, zone)
        for e in found
        if e.started_at < start and start <= e.ended_at < end
    }
    return rows, earlier


async def recompute_recent(
    new_uow: ReportingUnitOfWorkFactory,
    now: datetime,
    *,
    settings: ReportingSettings = _DEFAULTS,
) -> int:
    """For every tenant: today so far and the three days before, in the tenant's zone (each
    day its own transaction), and any earlier day whose episode got its reply in that window;
    returns how many rows were written.

    A tenant whose recompute fails does not hold the others up: the rest are recomputed, then
    the first failure is raised (the job logs it and tries again next round)."""
    async with new_uow() as uow:
        tenant_ids = await uow.reports.tenant_ids()
    written = 0
    failure: Exception | None = None
    for tenant_id in tenant_ids:
        try:
            written += await _recompute_tenant(new_uow, tenant_id, now, settings)
        except Exception as exc:
            failure = failure or exc
    if failure is not None:
        raise failure
    return written


async def _recompute_tenant(
    new_uow: ReportingUnitOfWorkFactory,
    tenant_id: UUID,
    now: datetime,
    settings: ReportingSettings,
) -> int:
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        today = local_day(now, await _zone(uow, tenant_id))
    recent = [today - timedelta(days=back) for back in range(RECENT_DAYS, -1, -1)]
    written = 0
    late: set[date] = set()
    for day in recent:
        rows, earlier = await _recompute(new_uow(), tenant_id, day, settings)
        written += len(rows)
        late |= earlier
    for day in sorted(late - set(recent)):
        written += len(await recompute_day(new_uow(), tenant_id, day, settings=settings))
    return written


async def recompute_booking_day(
    new_uow: ReportingUnitOfWorkFactory,
    tenant_id: UUID,
    booking_id: UUID,
    *,
    settings: ReportingSettings = _DEFAULTS,
) -> Sequence[DailyRow]:
    """Recompute the day a booking was made on (its cancellation, however late, leaves that
    day's bookings and recovered revenue); nothing when it never was booked."""
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        booking = await uow.bookings.get(tenant_id, booking_id)
        zone = await _zone(uow, tenant_id)
    if booking is None or booking.booked_at is None:
        return ()
    day = local_day(booking.booked_at, zone)
    return await recompute_day(new_uow(), tenant_id, day, settings=settings)


def _check_range(first: date, last: date) -> None:
    if last < first:
        raise InvalidInput("to", "must not be before from")
    if (last - first).days + 1 > MAX_REPORT_DAYS:
        raise InvalidInput("to", f"a report spans at most {MAX_REPORT_DAYS} days")


async def _days(
    uow: ReportingUnitOfWork, tenant_id: UUID, first: date, last: date, metric: str | None
) -> Sequence[DailyRow]:
    """In an entered unit of work bound to the tenant: the checked range's rows."""
    _check_range(first, last)
    if metric is not None and metric not in METRICS:
        raise InvalidInput("metric", f"unknown metric; one of {', '.join(METRICS)}")
    await _zone(uow, tenant_id)  # an unknown tenant is a 404, not an empty report
    return await uow.reports.days(tenant_id, first, last, metric)


async def tenant_daily_report(
    uow: ReportingUnitOfWork, tenant_id: UUID, first: date, last: date, metric: str | None
) -> Sequence[DailyRow]:
    """The stored rows of first..last (tenant-local days), one metric or all (operators)."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        return await _days(uow, tenant_id, first, last, metric)


async def daily_report(
    uow: ReportingUnitOfWork, principal: Principal, first: date, last: date, metric: str | None
) -> Sequence[DailyRow]:
    """The owner's daily rows (OWNER only; InvalidInput for a bad range or metric)."""
    async with uow:
        await authorize(uow, principal, owner=True)
        return await _days(uow, principal.tenant_id, first, last, metric)


async def recent_period(
    uow: ReportingUnitOfWork, principal: Principal, days: int = DEFAULT_REPORT_DAYS
) -> tuple[date, date]:
    """The last `days` tenant-local days, today (on the database clock) the last; OWNER only."""
    if not 1 <= days <= MAX_REPORT_DAYS:
        raise InvalidInput("days", f"must be 1 to {MAX_REPORT_DAYS}")
    async with uow:
        await authorize(uow, principal, owner=True)
        zone = await _zone(uow, principal.tenant_id)
        today = local_day(await uow.now(), zone)
    return today - timedelta(days=days - 1), today


def summarize(first: date, last: date, rows: Sequence[DailyRow]) -> Summary:
    """A period's funnel totals and latencies merged from its days' rows."""
    totals = merge_totals(rows)
    latency = {
        metric: merge_latency([row for row in rows if row.metric == metric])
        for metric in LATENCY_METRICS
    }
    return Summary(
        first=first,
        last=last,
        **totals,
        text_back=latency["text_back_seconds"],
        first_response=latency["first_response_seconds"],
        assistant_response=latency["assistant_response_seconds"],
    )


async def tenant_summary_report(
    uow: ReportingUnitOfWork, tenant_id: UUID, first: date, last: date
) -> Summary:
    """The period's summary for one tenant (operators)."""
    rows = await tenant_daily_report(uow, tenant_id, first, last, None)
    return summarize(first, last, rows)


async def summary_report(
    uow: ReportingUnitOfWork, principal: Principal, first: date, last: date
) -> Summary:
    """The owner's summary (OWNER only)."""
    async with uow:
        await authorize(uow, principal, owner=True)
        rows = await _days(uow, principal.tenant_id, first, last, None)
    return summarize(first, last, rows)
