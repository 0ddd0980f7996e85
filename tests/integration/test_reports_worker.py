"""The worker's hourly reports job on real PostgreSQL: run with a stop event, it writes
report_daily rows for today and the three days before in each tenant's own zone; the worker
the composition root builds runs it; an unreachable database is logged and the next round
recomputes."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.logs import configure_logging
from nmc_adapters.memory import FakeSmsSender
from nmc_adapters.phone import LibPhoneNumbers
from nmc_adapters.postgres import PgUnitOfWork, create_engine
from nmc_adapters.settings import Settings
from nmc_domain.compliance.gate import approve_compliance
from nmc_domain.messaging.dispatch import DispatchOutcome, dispatch_message
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.reporting.model import METRICS
from nmc_domain.telephony.missed_call import CallStatusReport, report_call_status
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant
from nmc_worker.bootstrap import OpsOptions, build_worker
from nmc_worker.reports import Reports
from tests.support.databases import with_database
from tests.support.tenants import caller_number, fresh_number, onboard
from tests.support.twilio import call_sid
from tests.support.waiting import eventually, running

# Wednesday Jan 8 2025 03:00Z: Tuesday 21:00 in Chicago, Wednesday 12:00 in Tokyo.
NOW = datetime(2025, 1, 8, 3, 0, tzinfo=UTC)


async def daily(engine: AsyncEngine, tenant_id: uuid.UUID) -> list[Any]:
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT day, metric, count, p50 FROM report_daily WHERE tenant_id = :t"),
            {"t": tenant_id},
        )
        return list(found.all())


def days(found: list[Any]) -> set[date]:
    return {row.day for row in found}


async def a_text_back(new_uow: Any, tenant_id: uuid.UUID, number: str) -> None:
    report = CallStatusReport(call_sid(), number, caller_number(), "no-answer", 0)
    called = await report_call_status(new_uow(), report)
    assert called.message_id is not None
    event = MessageQueued(tenant_id, called.message_id)
    assert await dispatch_message(new_uow, FakeSmsSender(), event) is DispatchOutcome.SENT


async def test_the_job_writes_recent_days_in_each_zone_until_stopped(
    engine: AsyncEngine, admin_engine: AsyncEngine
) -> None:
    def new_uow() -> PgUnitOfWork:
        return PgUnitOfWork(engine)

    chicago, _ = await onboard(new_uow)
    command = OnboardTenant(
        name="SUMIDA-PLUMBING", number=fresh_number(), forward_to=fresh_number(),
        timezone="Asia/Tokyo", owner_email="owner@sumida-plumbing.example",
    )  # fmt: skip
    tokyo = (await onboard_tenant(new_uow(), LibPhoneNumbers(), command)).tenant
    await approve_compliance(new_uow(), tokyo.id)

    stop = asyncio.Event()
    job = Reports(new_uow, every_seconds=3600.0, clock=lambda: NOW)
    task = asyncio.create_task(job.run(stop))
    try:
        found = await eventually(lambda: _complete(admin_engine, (chicago.id, tokyo.id)), within=15)
        assert not task.done()  # waiting for the next hour, not finished
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)  # the stop event ends the hour's wait at once

    chicago_rows, tokyo_rows = found
    assert days(chicago_rows) == {date(2025, 1, d) for d in (4, 5, 6, 7)}
    assert days(tokyo_rows) == {date(2025, 1, d) for d in (5, 6, 7, 8)}
    for found_rows in found:
        assert sorted(row.metric for row in found_rows) == sorted(METRICS * 4)
        assert {row.count for row in found_rows} == {0}  # nothing happened on those days


async def _complete(engine: AsyncEngine, tenants: tuple[uuid.UUID, ...]) -> list[list[Any]] | None:
    """Every tenant's rows once all 4 days x 11 metrics are there (the positive signal)."""
    found = [await daily(engine, tenant_id) for tenant_id in tenants]
    return found if all(len(rows) == 4 * len(METRICS) for rows in found) else None


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, sms_console=True)


async def test_the_built_worker_runs_the_reports_job(
    settings: Settings, engine: AsyncEngine, admin_engine: AsyncEngine
) -> None:
    def new_uow() -> PgUnitOfWork:
        return PgUnitOfWork(engine)

    tenant, number = await onboard(new_uow)
    await a_text_back(new_uow, tenant.id, number)
    async with engine.connect() as conn:
        db_now = (await conn.execute(text("SELECT now()"))).scalar_one()

    worker = build_worker(settings, ops=OpsOptions(reports_every_seconds=3600.0))
    async with running(worker):
        found = await eventually(lambda: _complete(admin_engine, (tenant.id,)), within=15)

    [rows] = found
    today = db_now.astimezone(ZoneInfo("America/Chicago")).date()
    newest = max(days(rows))
    assert newest in (today, today + timedelta(days=1))  # the run may pass local midnight
    assert days(rows) == {newest - timedelta(days=n) for n in range(4)}
    text_back = [r for r in rows if r.metric == "text_back_seconds" and r.count]
    assert len(text_back) == 1
    assert text_back[0].day == today
    assert text_back[0].p50 is not None
    assert text_back[0].p50 > 0


async def test_an_unreachable_database_is_logged_and_the_next_round_recomputes(
    engine: AsyncEngine, admin_engine: AsyncEngine, pg_admin_url: str
) -> None:
    def new_uow() -> PgUnitOfWork:
        return PgUnitOfWork(engine)

    tenant, _ = await onboard(new_uow)
    # A database that does not exist on the same server: every connection is refused.
    gone = create_engine(with_database(pg_admin_url, "nmc_no_such_database"), pool_size=1)
    rounds = {"n": 0}

    def first_unreachable() -> PgUnitOfWork:
        rounds["n"] += 1
        return PgUnitOfWork(gone if rounds["n"] == 1 else engine)

    lines = io.StringIO()
    configure_logging("json", "info", stream=lines)
    stop = asyncio.Event()
    task = asyncio.create_task(
        Reports(first_unreachable, every_seconds=0.05, clock=lambda: NOW).run(stop)
    )
    try:
        await eventually(lambda: "reports.recomputed" in lines.getvalue(), within=15)
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        configure_logging("json", "info")
        await gone.dispose()

    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    events = [line for line in logged if line["event"].startswith("reports.")]
    assert events[0]["event"] == "reports.failed"
    assert events[0]["level"] == "error"
    # The adapter's outage error, without the URL (no credentials in the log).
    assert events[0]["error"] == "StorageUnavailable: database unavailable: OperationalError"
    assert any(line["event"] == "reports.recomputed" for line in events[1:])
    assert len(await daily(admin_engine, tenant.id)) == 4 * len(METRICS)
