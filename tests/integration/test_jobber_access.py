"""The edges of connecting and calling Jobber, on PostgreSQL with Jobber faked over HTTP: an
access token refreshed before it expires, tokens sealed with a key we no longer have, a grant
Jobber keeps refusing after a refresh, reconnecting to another account, disconnecting with an
expired access token, and syncs of tenants that are not (or no longer) connected."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.postgres import PgUnitOfWork
from nmc_domain.identity.model import Principal
from nmc_domain.scheduling.events import JobberItemChanged
from nmc_domain.scheduling.jobber import JOBBER, RECONNECT_NEEDED, BlockChanges, JobberVisit
from nmc_domain.scheduling.jobber_access import JobberAccess
from nmc_domain.scheduling.jobber_connect import (
    JobberSetup,
    disconnect_jobber,
    finish_jobber_connect,
)
from nmc_domain.scheduling.jobber_ports import JobberGrantRevoked, JobberProviderError, VisitsPage
from nmc_domain.scheduling.jobber_sync import MAX_PAGES, SyncStatus, _pages, sync_jobber_item
from nmc_domain.scheduling.model import BusyBlock, new_technician
from nmc_domain.scheduling.oauth import issue_state
from nmc_domain.shared.errors import InvalidInput, TenantNotFound
from nmc_domain.shared.ports import RowLock
from tests.contract.builders import stored_tenant
from tests.support.api import OWNER
from tests.support.fake_jobber import FakeJobber
from tests.support.jobber import jobber_blocks, jobber_setup, link_row
from tests.support.tenants import onboard


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeJobber]:
    with FakeJobber() as fake:
        yield fake


@pytest.fixture
async def setup(fake: FakeJobber) -> AsyncIterator[JobberSetup]:
    setup = jobber_setup(fake)
    yield setup
    await setup.api.aclose()  # type: ignore[attr-defined]


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


async def connected(new_uow, setup: JobberSetup, fake: FakeJobber) -> tuple[UUID, str]:
    tenant, _ = await onboard(new_uow)
    account = fake.add_account()
    state = issue_state(setup.sealer, JOBBER, tenant.id)
    await finish_jobber_connect(new_uow, setup, fake.authorize(account), state)
    return tenant.id, account


async def change_link(new_uow, tenant_id: UUID, **changes: object) -> None:
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        link = await uow.jobber_links.get(tenant_id, lock=RowLock.UPDATE)
        await uow.jobber_links.save(attrs.evolve(link, **changes))
        await uow.commit()


async def test_a_token_about_to_expire_is_refreshed_before_the_call(
    new_uow, setup: JobberSetup, fake: FakeJobber
) -> None:
    tenant_id, account = await connected(new_uow, setup, fake)
    await change_link(
        new_uow, tenant_id, access_expires_at=datetime.now(UTC) + timedelta(seconds=30)
    )
    calls = len(fake.requests)
    refreshes = fake.token_grants.count("refresh_token")
    found = await JobberAccess(new_uow, setup, tenant_id).call(setup.api.account)
    assert found.id == account
    assert fake.token_grants.count("refresh_token") == refreshes + 1
    assert [r.status for r in fake.requests[calls:]] == [200]  # no 401 first


async def test_tokens_sealed_with_another_key_need_a_reconnect(
    new_uow, setup: JobberSetup, fake: FakeJobber, admin_engine: AsyncEngine
) -> None:
    tenant_id, _ = await connected(new_uow, setup, fake)
    rekeyed = JobberSetup(setup.api, FernetSealer(Fernet.generate_key().decode()))
    with pytest.raises(JobberGrantRevoked):
        await JobberAccess(new_uow, rekeyed, tenant_id).call(setup.api.account)
    row = await link_row(admin_engine, tenant_id)
    assert row is not None
    assert row["last_sync_error"] == RECONNECT_NEEDED


async def test_a_token_refused_even_after_a_refresh_needs_a_reconnect(
    new_uow, setup: JobberSetup, fake: FakeJobber, admin_engine: AsyncEngine
) -> None:
    tenant_id, _ = await connected(new_uow, setup, fake)
    fake.expire_access_tokens()
    fake.access_ttl_seconds = -60  # from now on every access token is dead on arrival
    try:
        with pytest.raises(JobberGrantRevoked):
            await JobberAccess(new_uow, setup, tenant_id).call(setup.api.account)
    finally:
        fake.access_ttl_seconds = 3600
    row = await link_row(admin_engine, tenant_id)
    assert row is not None
    assert row["last_sync_error"] == RECONNECT_NEEDED


async def test_reconnecting_another_account_forgets_the_old_accounts_blocks(
    new_uow, setup: JobberSetup, fake: FakeJobber, admin_engine: AsyncEngine
) -> None:
    tenant_id, first = await connected(new_uow, setup, fake)
    rosa = new_technician(tenant_id=tenant_id, name="Rosa", email="rosa@acme-plumbing.example")
    start = datetime.now(UTC) + timedelta(days=1)
    old = BusyBlock(
        uuid.uuid4(), tenant_id, rosa.id, start, start + timedelta(hours=1), JOBBER, "V"
    )
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        await uow.technicians.add(rosa)
        await uow.jobber_blocks.apply(tenant_id, BlockChanges(added=(old,)))
        await uow.commit()
    # Same account again: its blocks stay (the first sync reconciles them).
    same = issue_state(setup.sealer, JOBBER, tenant_id)
    await finish_jobber_connect(new_uow, setup, fake.authorize(first), same)
    assert len(await jobber_blocks(admin_engine, tenant_id)) == 1
    second = fake.add_account("ACME's other Jobber")
    state = issue_state(setup.sealer, JOBBER, tenant_id)
    link = await finish_jobber_connect(new_uow, setup, fake.authorize(second), state)
    assert link.account_id == second
    assert await jobber_blocks(admin_engine, tenant_id) == []


async def test_a_callback_without_a_code_or_for_a_gone_tenant_is_refused(
    new_uow, setup: JobberSetup
) -> None:
    tenant, _ = await stored_tenant(new_uow)
    with pytest.raises(InvalidInput) as raised:
        await finish_jobber_connect(
            new_uow, setup, None, issue_state(setup.sealer, JOBBER, tenant.id)
        )
    assert raised.value.field == "code"
    with pytest.raises(TenantNotFound):
        await finish_jobber_connect(
            new_uow, setup, "code", issue_state(setup.sealer, JOBBER, uuid.uuid4())
        )


async def test_disconnecting_with_an_expired_token_still_tells_jobber(
    new_uow, setup: JobberSetup, fake: FakeJobber
) -> None:
    tenant_id, account = await connected(new_uow, setup, fake)
    await change_link(
        new_uow, tenant_id, access_expires_at=datetime.now(UTC) - timedelta(minutes=5)
    )
    owner = owner_of(tenant_id)
    await disconnect_jobber(new_uow(), setup, owner)
    assert account in fake.disconnected


async def test_disconnecting_when_jobber_is_down_still_disconnects_here(
    new_uow, setup: JobberSetup, fake: FakeJobber, admin_engine: AsyncEngine
) -> None:
    tenant_id, account = await connected(new_uow, setup, fake)
    fake.fail_next(1, status=500)
    await disconnect_jobber(new_uow(), setup, owner_of(tenant_id))
    assert await link_row(admin_engine, tenant_id) is None
    assert account not in fake.disconnected


def owner_of(tenant_id: UUID) -> Principal:
    return Principal(subject=OWNER, tenant_id=tenant_id)


async def test_syncs_of_a_tenant_without_a_link_change_nothing(new_uow, setup: JobberSetup) -> None:
    tenant, _ = await stored_tenant(new_uow)
    for topic in ("VISIT_UPDATE", "JOB_UPDATE", "APP_DISCONNECT"):
        event = JobberItemChanged(tenant.id, topic, "ITEM", datetime.now(UTC))
        assert (await sync_jobber_item(new_uow, setup, event)).status is SyncStatus.NOT_CONNECTED


async def test_a_listing_longer_than_we_mirror_is_an_incomplete_fetch() -> None:
    visit = JobberVisit("V", "J", None, None)

    async def endless(cursor: str | None) -> VisitsPage:
        return VisitsPage((visit,), next_cursor=f"{int(cursor or 0) + 1}")

    with pytest.raises(JobberProviderError, match=f"more than {MAX_PAGES} pages"):
        await _pages(endless)
