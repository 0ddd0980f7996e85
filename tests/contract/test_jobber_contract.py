"""Contracts of the Jobber repositories (uow.jobber_links, uow.jobber_blocks) on the fakes and
PostgreSQL: one link per tenant and one tenant per account, found by account before any tenant
is bound, routing gone with the link; Jobber blocks added, moved and removed by a diff, found
by visit, by job (through the visit -> job map) and by window, cleared, and never another
source's or another tenant's rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs
import pytest

from nmc_domain.scheduling.jobber import JOBBER, BlockChanges, JobberLink
from nmc_domain.scheduling.model import BusyBlock, Technician, new_technician
from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.ports import RowLock
from tests.contract.backends import Backend
from tests.contract.builders import stored_tenant

NINE = datetime(2025, 1, 7, 15, 0, tzinfo=UTC)


def account() -> str:
    return f"ACCOUNT-{uuid.uuid4().hex[:10]}"


def a_link(tenant_id: UUID, account_id: str, **changes: object) -> JobberLink:
    link = JobberLink(
        tenant_id=tenant_id,
        account_id=account_id,
        account_name="ACME Plumbing (Jobber)",
        access_token="sealed-access",
        refresh_token="sealed-refresh",
        access_expires_at=NINE + timedelta(hours=1),
        connected_at=NINE,
    )
    return attrs.evolve(link, **changes)


async def save(backend: Backend, link: JobberLink) -> None:
    async with backend.new_uow() as uow:
        await uow.bind_tenant(link.tenant_id)
        await uow.jobber_links.save(link)
        await uow.commit()


async def test_a_link_round_trips_and_a_later_save_replaces_it(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    first = a_link(tenant.id, account())
    await save(backend, first)
    later = attrs.evolve(
        first,
        access_token="sealed-access-2",
        refresh_token="sealed-refresh-2",
        last_synced_at=NINE + timedelta(minutes=15),
        last_sync_error="Jobber: 500",
        drift_last=3,
        drift_streak=2,
    )
    await save(backend, later)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.jobber_links.get(tenant.id, lock=RowLock.UPDATE) == later
        assert tenant.id in await uow.jobber_links.tenant_ids()
        await uow.jobber_links.lock_sync(tenant.id)


async def test_a_link_is_found_by_its_account_whoever_is_bound(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    link = a_link(tenant.id, account())
    await save(backend, link)
    async with backend.new_uow() as uow:
        assert await uow.jobber_links.by_account(link.account_id) == link
        # Bound to the account's tenant by the lookup: its rows are readable now.
        assert await uow.jobber_links.get(tenant.id) == link
    async with backend.new_uow() as uow:
        assert await uow.jobber_links.by_account(account()) is None


async def test_an_account_belongs_to_one_tenant(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    bright, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK")
    shared = account()
    await save(backend, a_link(acme.id, shared))
    with pytest.raises(Conflict) as raised:
        await save(backend, a_link(bright.id, shared))
    assert raised.value.field == "account_id"
    async with backend.new_uow() as uow:
        found = await uow.jobber_links.by_account(shared)
    assert found is not None
    assert found.tenant_id == acme.id


async def test_a_tenant_that_changes_account_is_routed_by_the_new_one(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    old, new = account(), account()
    await save(backend, a_link(tenant.id, old))
    await save(backend, a_link(tenant.id, new))
    async with backend.new_uow() as uow:
        assert await uow.jobber_links.by_account(old) is None
    async with backend.new_uow() as uow:
        found = await uow.jobber_links.by_account(new)
    assert found is not None
    assert found.tenant_id == tenant.id


async def test_deleting_a_link_forgets_its_routing(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    link = a_link(tenant.id, account())
    await save(backend, link)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.jobber_links.delete(tenant.id) is True
        assert await uow.jobber_links.delete(tenant.id) is False
        await uow.commit()
    async with backend.new_uow() as uow:
        assert await uow.jobber_links.by_account(link.account_id) is None
        assert tenant.id not in await uow.jobber_links.tenant_ids()
        await uow.bind_tenant(tenant.id)
        assert await uow.jobber_links.get(tenant.id) is None


@attrs.frozen
class Crew:
    tenant_id: UUID
    rosa: Technician
    miguel: Technician


async def crew(backend: Backend) -> Crew:
    tenant, _ = await stored_tenant(backend.new_uow)
    rosa = new_technician(tenant_id=tenant.id, name="Rosa", email="rosa@acme-plumbing.example")
    miguel = new_technician(tenant_id=tenant.id, name="Miguel")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.technicians.add(rosa)
        await uow.technicians.add(miguel)
        await uow.commit()
    return Crew(tenant.id, rosa, miguel)


def block(crew: Crew, technician: Technician, visit: str, hours: float) -> BusyBlock:
    start = NINE + timedelta(hours=hours)
    return BusyBlock(
        uuid.uuid4(),
        crew.tenant_id,
        technician.id,
        start,
        start + timedelta(hours=1),
        JOBBER,
        visit,
    )


async def apply(backend: Backend, crew: Crew, changes: BlockChanges) -> None:
    async with backend.new_uow() as uow:
        await uow.bind_tenant(crew.tenant_id)
        await uow.jobber_blocks.apply(crew.tenant_id, changes)
        await uow.commit()


async def test_blocks_are_added_moved_removed_and_found(backend: Backend) -> None:
    c = await crew(backend)
    manual = BusyBlock(uuid.uuid4(), c.tenant_id, c.rosa.id, NINE, NINE + timedelta(hours=1))
    v1_rosa, v1_miguel = block(c, c.rosa, "V1", 0), block(c, c.miguel, "V1", 0)
    v2 = block(c, c.rosa, "V2", 30)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(c.tenant_id)
        await uow.busy_blocks.add(manual)
        await uow.commit()
    await apply(
        backend,
        c,
        BlockChanges(added=(v1_rosa, v1_miguel, v2), jobs={"V1": "J1", "V2": "J2"}),
    )
    moved = attrs.evolve(v1_rosa, start=NINE + timedelta(hours=2), end=NINE + timedelta(hours=4))
    await apply(backend, c, BlockChanges(moved=(moved,), removed=(v1_miguel,)))

    async with backend.new_uow() as uow:
        await uow.bind_tenant(c.tenant_id)
        assert await uow.jobber_blocks.of_visits(c.tenant_id, ["V1"]) == [moved]
        assert await uow.jobber_blocks.of_visits(c.tenant_id, []) == []
        assert await uow.jobber_blocks.of_job(c.tenant_id, "J2") == [v2]
        window = await uow.jobber_blocks.between(c.tenant_id, NINE, NINE + timedelta(hours=24))
        assert window == [moved]  # the manual block is not Jobber's
        page = await uow.busy_blocks.page(c.tenant_id, None, 10)
    assert sorted(b.id for b in page) == sorted([manual.id, moved.id, v2.id])


async def test_forgotten_visits_leave_their_job(backend: Backend) -> None:
    c = await crew(backend)
    v1 = block(c, c.rosa, "V1", 0)
    await apply(backend, c, BlockChanges(added=(v1,), jobs={"V1": "J1"}))
    await apply(backend, c, BlockChanges(forgotten=frozenset({"V1", "NEVER-SEEN"})))
    async with backend.new_uow() as uow:
        await uow.bind_tenant(c.tenant_id)
        assert await uow.jobber_blocks.of_job(c.tenant_id, "J1") == []
        assert await uow.jobber_blocks.of_visits(c.tenant_id, ["V1"]) == [v1]


async def test_clear_removes_only_this_tenants_jobber_blocks(backend: Backend) -> None:
    c, other = await crew(backend), await crew(backend)
    manual = BusyBlock(uuid.uuid4(), c.tenant_id, c.rosa.id, NINE, NINE + timedelta(hours=1))
    async with backend.new_uow() as uow:
        await uow.bind_tenant(c.tenant_id)
        await uow.busy_blocks.add(manual)
        await uow.commit()
    await apply(
        backend,
        c,
        BlockChanges(
            added=(block(c, c.rosa, "V1", 0), block(c, c.miguel, "V1", 0)), jobs={"V1": "J1"}
        ),
    )
    theirs = block(other, other.rosa, "V1", 0)
    await apply(backend, other, BlockChanges(added=(theirs,), jobs={"V1": "J1"}))

    async with backend.new_uow() as uow:
        await uow.bind_tenant(c.tenant_id)
        assert await uow.jobber_blocks.clear(c.tenant_id) == 2
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(c.tenant_id)
        assert [b.id for b in await uow.busy_blocks.page(c.tenant_id, None, 10)] == [manual.id]
        assert await uow.jobber_blocks.of_job(c.tenant_id, "J1") == []
        await uow.bind_tenant(other.tenant_id)
        assert await uow.jobber_blocks.of_job(other.tenant_id, "J1") == [theirs]


async def test_a_visit_blocks_a_technician_once(backend: Backend) -> None:
    c = await crew(backend)
    await apply(backend, c, BlockChanges(added=(block(c, c.rosa, "V1", 0),)))
    with pytest.raises(Conflict):
        await apply(backend, c, BlockChanges(added=(block(c, c.rosa, "V1", 5),)))
