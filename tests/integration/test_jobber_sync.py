"""Jobber's visits becoming busy blocks, on PostgreSQL with Jobber faked over HTTP: the worker's
handlers (a webhook's visit or job read from Jobber as it is now: duplicated and reordered
webhooks end the same), the 15-minute poll (complete fetches only: a Jobber 500 keeps every
shadow row; drift counted, warned about after three polls in a row), technicians mapped by
email, and tokens refreshed with rotation (once, however many workers need it; a refused grant
marks the link and stops there)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.memory import FakeSmsSender
from nmc_adapters.metrics import Metrics
from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.scheduling.events import JobberItemChanged, JobberSyncRequested
from nmc_domain.scheduling.jobber import RECONNECT_NEEDED
from nmc_domain.scheduling.jobber_access import JobberAccess
from nmc_domain.scheduling.jobber_connect import JobberSetup, finish_jobber_connect
from nmc_domain.scheduling.jobber_sync import SyncStatus, sync_jobber_window
from nmc_domain.scheduling.model import new_technician
from nmc_domain.scheduling.oauth import issue_state
from nmc_worker.handlers import build_handlers
from nmc_worker.jobber import JobberPoll
from tests.contract.builders import stored_tenant
from tests.support.fake_jobber import FakeJobber
from tests.support.jobber import Block, jobber_blocks, jobber_setup, link_row

ROSA = "rosa@acme-plumbing.example"
MIGUEL = "miguel@acme-plumbing.example"


class NoSleep:
    async def __call__(self, seconds: float) -> None:
        return None


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeJobber]:
    with FakeJobber() as fake:
        yield fake


@pytest.fixture
async def setup(fake: FakeJobber) -> AsyncIterator[JobberSetup]:
    setup = jobber_setup(fake, sleep=NoSleep())
    yield setup
    await setup.api.aclose()  # type: ignore[attr-defined]


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    """A time tomorrow in Chicago (the tests' tenants' zone), well inside the poll window."""
    now = datetime.now(UTC)
    day = (now - timedelta(hours=6)).date() + timedelta(days=1)
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + timedelta(hours=hour + 6, minutes=minute)  # CST (the test's days)


class Acme:
    """A connected tenant with Rosa and Miguel (by email) and the fake account behind it."""

    def __init__(self, tenant_id: UUID, account: str, fake: FakeJobber) -> None:
        self.tenant_id, self.account, self.fake = tenant_id, account, fake
        self.job = fake.new_id("Job")

    def visit(self, hour: int, *emails: str, visit_id: str | None = None, **more: object) -> str:
        visit_id = visit_id or self.fake.new_id("Visit")
        self.fake.put_visit(
            self.account,
            visit_id,
            job_id=str(more.pop("job_id", self.job)),
            start=tomorrow_at(hour),
            end=tomorrow_at(hour + 2),
            emails=emails,
            **more,  # type: ignore[arg-type]
        )
        return visit_id

    def event(self, topic: str, item_id: str, minute: int = 0) -> JobberItemChanged:
        return JobberItemChanged(self.tenant_id, topic, item_id, tomorrow_at(0, minute))


@pytest.fixture
async def acme(new_uow, setup: JobberSetup, fake: FakeJobber) -> Acme:
    tenant, _ = await stored_tenant(new_uow)
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        for name, email in (("Rosa", ROSA), ("Miguel", MIGUEL), ("Dana", None)):
            await uow.technicians.add(new_technician(tenant_id=tenant.id, name=name, email=email))
        await uow.commit()
    account = fake.add_account()
    state = issue_state(setup.sealer, "jobber", tenant.id)
    await finish_jobber_connect(new_uow, setup, fake.authorize(account), state)
    return Acme(tenant.id, account, fake)


def handlers(new_uow, setup: JobberSetup):
    return build_handlers(new_uow, FakeSmsSender(), jobber=setup)


def block(technician: str, visit_id: str, hour: int, hours: int = 2) -> Block:
    return Block(technician, visit_id, tomorrow_at(hour), tomorrow_at(hour + hours))


async def test_the_first_sync_blocks_assigned_technicians_by_email(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine
) -> None:
    both = acme.visit(9, "Rosa@ACME-Plumbing.example", MIGUEL)
    stranger = acme.visit(13, "helper@elsewhere.example")
    nobody = acme.visit(15)
    unscheduled = acme.visit(17, ROSA, status="UNSCHEDULED")
    await handlers(new_uow, setup)[JobberSyncRequested](
        JobberSyncRequested(acme.tenant_id, "connected")
    )
    assert await jobber_blocks(admin_engine, acme.tenant_id) == [
        block("Miguel", both, 9),
        block("Rosa", both, 9),
    ]
    assert {stranger, nobody, unscheduled}.isdisjoint(
        b.visit_id for b in await jobber_blocks(admin_engine, acme.tenant_id)
    )
    row = await link_row(admin_engine, acme.tenant_id)
    assert row is not None
    assert row["last_synced_at"] is not None
    assert row["drift_last"] is None  # the first sync is not drift


async def test_duplicated_and_reordered_webhooks_end_in_jobbers_state(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine
) -> None:
    handle = handlers(new_uow, setup)[JobberItemChanged]
    visit = acme.visit(9, ROSA)
    created = acme.event("VISIT_CREATE", visit, 1)
    acme.visit(11, MIGUEL, visit_id=visit)  # rescheduled and reassigned in Jobber
    updated = acme.event("VISIT_UPDATE", visit, 2)
    # Jobber delivers the update first, then the create, then the update again.
    for event in (updated, created, updated):
        await handle(event)
    assert await jobber_blocks(admin_engine, acme.tenant_id) == [block("Miguel", visit, 11)]

    acme.fake.delete_visit(acme.account, visit)
    destroyed = acme.event("VISIT_DESTROY", visit, 3)
    for event in (destroyed, updated, destroyed):
        await handle(event)
    assert await jobber_blocks(admin_engine, acme.tenant_id) == []


async def test_a_deleted_job_frees_its_visits_and_a_job_update_reconciles_them(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine
) -> None:
    handle = handlers(new_uow, setup)[JobberItemChanged]
    first, second = acme.visit(8, ROSA), acme.visit(12, ROSA, MIGUEL)
    other_job = acme.fake.new_id("Job")
    kept = acme.visit(16, MIGUEL, job_id=other_job)
    await handle(acme.event("JOB_CREATE", acme.job))
    await handle(acme.event("VISIT_CREATE", kept))
    assert len(await jobber_blocks(admin_engine, acme.tenant_id)) == 4

    acme.fake.delete_visit(acme.account, first)
    await handle(acme.event("JOB_UPDATE", acme.job, 1))
    assert await jobber_blocks(admin_engine, acme.tenant_id) == sorted(
        [block("Miguel", second, 12), block("Rosa", second, 12), block("Miguel", kept, 16)]
    )

    acme.fake.delete_job(acme.account, acme.job)
    await handle(acme.event("JOB_DESTROY", acme.job, 2))
    assert await jobber_blocks(admin_engine, acme.tenant_id) == [block("Miguel", kept, 16)]


async def test_a_jobber_500_during_the_poll_keeps_every_shadow_row(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine
) -> None:
    for hour in range(60):  # two pages of visits
        acme.fake.put_visit(
            acme.account,
            acme.fake.new_id("Visit"),
            job_id=acme.job,
            start=tomorrow_at(0) + timedelta(minutes=20 * hour),
            end=tomorrow_at(0) + timedelta(minutes=20 * hour + 10),
            emails=(ROSA,),
        )
    poll = JobberPoll(new_uow, setup)
    [synced] = await poll.poll_tenants([acme.tenant_id])
    assert synced.changed == 60
    before = await jobber_blocks(admin_engine, acme.tenant_id)

    for visit in list(before)[:5]:  # 55 left: still two pages
        acme.fake.delete_visit(acme.account, visit.visit_id)  # Jobber changed, then failed
    acme.fake.fail_next(1, status=500, after=1)  # the second page fails
    with pytest.raises(Exception, match="500"):
        await sync_jobber_window(new_uow, setup, acme.tenant_id)
    assert await jobber_blocks(admin_engine, acme.tenant_id) == before
    row = await link_row(admin_engine, acme.tenant_id)
    assert row is not None
    assert "500" in row["last_sync_error"]

    synced = (await poll.poll_tenants([acme.tenant_id]))[0]
    assert synced.changed == 5
    assert len(await jobber_blocks(admin_engine, acme.tenant_id)) == 55
    row = await link_row(admin_engine, acme.tenant_id)
    assert row is not None
    assert row["last_sync_error"] is None


async def test_drift_is_what_no_webhook_announced_and_three_in_a_row_warn(
    acme: Acme,
    new_uow,
    setup: JobberSetup,
    admin_engine: AsyncEngine,
    structured_logs: Callable[[str], list[dict[str, Any]]],
) -> None:
    handle = handlers(new_uow, setup)[JobberItemChanged]
    metrics = Metrics()
    poll = JobberPoll(new_uow, setup, drift=metrics.count_calendar_drift)
    announced = acme.visit(8, ROSA)
    await handle(acme.event("VISIT_CREATE", announced))
    [synced] = await poll.poll_tenants([acme.tenant_id])
    assert (synced.drift, synced.drift_streak) == (0, 0)  # the webhook brought it already

    for hour in (10, 12, 14):
        acme.visit(hour, MIGUEL)  # no webhook ever comes for these
        [synced] = await poll.poll_tenants([acme.tenant_id])
        assert synced.drift == 1
    assert synced.drift_streak == 3
    assert synced.drift_alarm
    warnings = structured_logs("calendar.drift")
    assert len(warnings) == 1
    assert warnings[0]["provider"] == "jobber"
    body, _ = await metrics.render()
    assert b'nmc_calendar_drift_rows_total{provider="jobber"} 3.0' in body
    assert b'nmc_calendar_drift_warnings_total{provider="jobber"} 1.0' in body
    row = await link_row(admin_engine, acme.tenant_id)
    assert row is not None
    assert (row["drift_last"], row["drift_streak"]) == (1, 3)

    [synced] = await poll.poll_tenants([acme.tenant_id])
    assert (synced.drift, synced.drift_streak) == (0, 0)


async def test_an_expired_token_is_refreshed_once_and_the_new_pair_kept(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine, fake: FakeJobber
) -> None:
    before = await link_row(admin_engine, acme.tenant_id)
    assert before is not None
    fake.expire_access_tokens()
    refreshes = fake.token_grants.count("refresh_token")
    access = JobberAccess(new_uow, setup, acme.tenant_id)
    # Two workers need Jobber at once with a token Jobber no longer takes.
    accounts = await asyncio.gather(*(access.call(setup.api.account) for _ in range(4)))
    assert {a.id for a in accounts} == {acme.account}
    assert fake.token_grants.count("refresh_token") == refreshes + 1  # never spent twice
    after = await link_row(admin_engine, acme.tenant_id)
    assert after is not None
    assert setup.sealer.unseal(after["refresh_token"]) != setup.sealer.unseal(
        before["refresh_token"]
    )
    assert after["access_expires_at"] > datetime.now(UTC) + timedelta(minutes=50)


async def test_an_access_token_jobber_rejects_early_is_refreshed(
    acme: Acme, new_uow, setup: JobberSetup, fake: FakeJobber
) -> None:
    # The stored expiry says an hour, but Jobber refuses it now (401): refresh and retry once.
    fake.expire_access_tokens()
    refreshes = fake.token_grants.count("refresh_token")
    synced = await sync_jobber_window(new_uow, setup, acme.tenant_id)
    assert synced.status is SyncStatus.SYNCED
    assert fake.token_grants.count("refresh_token") == refreshes + 1


async def test_a_refused_grant_marks_the_link_and_is_not_retried(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine, fake: FakeJobber
) -> None:
    visit = acme.visit(9, ROSA)
    await sync_jobber_window(new_uow, setup, acme.tenant_id)
    fake.revoke(acme.account)  # disconnected in Jobber: tokens and refresh tokens die
    grants = len(fake.token_grants)

    synced = await sync_jobber_window(new_uow, setup, acme.tenant_id)
    assert synced.status is SyncStatus.RECONNECT_NEEDED
    row = await link_row(admin_engine, acme.tenant_id)
    assert row is not None
    assert row["last_sync_error"] == RECONNECT_NEEDED
    assert await jobber_blocks(admin_engine, acme.tenant_id) == [block("Rosa", visit, 9)]

    handle = handlers(new_uow, setup)[JobberItemChanged]
    await handle(acme.event("VISIT_UPDATE", visit))  # completes: nothing to retry
    assert (await sync_jobber_window(new_uow, setup, acme.tenant_id)).status is (
        SyncStatus.RECONNECT_NEEDED
    )
    assert len(fake.token_grants) == grants + 1  # one refused refresh, then no more asking


async def test_jobbers_app_disconnect_forgets_the_link(
    acme: Acme, new_uow, setup: JobberSetup, admin_engine: AsyncEngine
) -> None:
    acme.visit(9, ROSA)
    await sync_jobber_window(new_uow, setup, acme.tenant_id)
    handle = handlers(new_uow, setup)[JobberItemChanged]
    stale = JobberItemChanged(
        acme.tenant_id, "APP_DISCONNECT", acme.account, datetime(2020, 1, 1, tzinfo=UTC)
    )
    await handle(stale)  # about an earlier grant: ignored
    assert await link_row(admin_engine, acme.tenant_id) is not None
    await handle(
        JobberItemChanged(acme.tenant_id, "APP_DISCONNECT", acme.account, datetime.now(UTC))
    )
    assert await link_row(admin_engine, acme.tenant_id) is None
    assert await jobber_blocks(admin_engine, acme.tenant_id) == []
    synced = await sync_jobber_window(new_uow, setup, acme.tenant_id)
    assert synced.status is SyncStatus.NOT_CONNECTED


async def test_the_poll_visits_every_connected_tenant_and_survives_one_failing(
    new_uow, setup: JobberSetup, fake: FakeJobber, admin_engine: AsyncEngine
) -> None:
    tenants = []
    for name in ("ACME-PLUMBING", "BRIGHT-SPARK"):
        tenant, _ = await stored_tenant(new_uow, name)
        async with new_uow() as uow:
            await uow.bind_tenant(tenant.id)
            await uow.technicians.add(new_technician(tenant_id=tenant.id, name="Rosa", email=ROSA))
            await uow.commit()
        account = fake.add_account(name)
        await finish_jobber_connect(
            new_uow, setup, fake.authorize(account), issue_state(setup.sealer, "jobber", tenant.id)
        )
        Acme(tenant.id, account, fake).visit(9, ROSA)
        tenants.append(tenant.id)
    fake.fail_next(1, status=503)
    results = await JobberPoll(new_uow, setup).poll_tenants(sorted(tenants))
    synced = {t for t in tenants if await jobber_blocks(admin_engine, t)}
    assert synced == {max(tenants)}  # the first one's fetch failed; it is tried next round
    assert len(results) == 1
    await JobberPoll(new_uow, setup).poll_once()  # every connected tenant of the database
    assert all([await jobber_blocks(admin_engine, t) for t in tenants])


async def test_a_worker_without_jobber_settings_fails_the_event_loudly(new_uow) -> None:
    handle = build_handlers(new_uow, FakeSmsSender())[JobberItemChanged]
    with pytest.raises(RuntimeError, match="NMC_JOBBER"):
        await handle(JobberItemChanged(uuid.uuid4(), "VISIT_UPDATE", "V", datetime.now(UTC)))
