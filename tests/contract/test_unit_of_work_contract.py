"""UnitOfWork contract: one transaction, seen once committed, else gone (fakes and PostgreSQL)."""

from __future__ import annotations

import attrs
import pytest

from nmc_domain.compliance.model import Compliance, ComplianceStatus
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.errors import NumberAlreadyTaken
from nmc_domain.tenancy.template import TextBackTemplate
from tests.contract.backends import Backend
from tests.contract.builders import a_tenant, stored_tenant
from tests.support.tenants import fresh_number


async def test_commit_makes_changes_visible_to_later_units_of_work(backend: Backend) -> None:
    tenant, number = a_tenant(), fresh_number()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.tenants.add(tenant)
        await uow.numbers.assign(number, tenant.id)
        await uow.bind_tenant(tenant.id)
        assert await uow.tenants.get(tenant.id) == tenant  # own writes are read back at once
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.tenants.get(tenant.id) == tenant
        assert await uow.tenants.by_number(number) == tenant


async def test_leaving_without_commit_discards_everything(backend: Backend) -> None:
    tenant, number = a_tenant(), fresh_number()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.tenants.add(tenant)
        await uow.numbers.assign(number, tenant.id)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.tenants.get(tenant.id) is None
        assert await uow.tenants.by_number(number) is None


async def test_an_error_inside_rolls_back_and_propagates(backend: Backend) -> None:
    tenant = a_tenant()

    async def failing() -> None:
        async with backend.new_uow() as uow:
            await uow.bind_tenant(tenant.id)
            await uow.tenants.add(tenant)
            raise LookupError("boom")

    with pytest.raises(LookupError, match="boom"):
        await failing()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.tenants.get(tenant.id) is None


async def test_uncommitted_changes_are_invisible_to_another_unit_of_work(backend: Backend) -> None:
    tenant = a_tenant()
    async with backend.new_uow() as writer:
        await writer.bind_tenant(tenant.id)
        await writer.tenants.add(tenant)
        async with backend.new_uow() as reader:
            await reader.bind_tenant(tenant.id)
            assert await reader.tenants.get(tenant.id) is None
            await writer.commit()
            # READ COMMITTED on both backends: a later read sees the commit.
            await reader.bind_tenant(tenant.id)
            assert await reader.tenants.get(tenant.id) == tenant


async def test_writes_after_a_commit_need_their_own_commit(backend: Backend) -> None:
    first, second = a_tenant("ACME-PLUMBING"), a_tenant("BRIGHT-SPARK-ELECTRIC")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(first.id)
        await uow.tenants.add(first)
        await uow.commit()
        await uow.bind_tenant(second.id)
        await uow.tenants.add(second)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(first.id)
        assert await uow.tenants.get(first.id) == first
        await uow.bind_tenant(second.id)
        assert await uow.tenants.get(second.id) is None


async def test_now_is_tz_aware_and_fixed_for_the_unit_of_work(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        first = await uow.now()
        tenant = a_tenant()
        await uow.bind_tenant(tenant.id)
        await uow.tenants.add(tenant)
        assert await uow.now() == first
    assert first.tzinfo is not None
    assert first.utcoffset() is not None


async def test_commit_outside_async_with_is_refused(backend: Backend) -> None:
    with pytest.raises(RuntimeError, match="outside"):
        await backend.new_uow().commit()


async def test_tenant_save_round_trips_every_field(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    changed = attrs.evolve(
        tenant,
        name="ACME-PLUMBING & HEATING",
        text_back_template=TextBackTemplate("{business_name}: sorry we missed you!"),
        ring_timeout_seconds=25,
        short_call_threshold_seconds=7,
    )
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.tenants.get(tenant.id, lock=RowLock.UPDATE) == tenant
        await uow.bind_tenant(changed.id)
        await uow.tenants.save(changed)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.tenants.get(tenant.id, lock=RowLock.SHARE) == changed


async def test_compliance_starts_pending_and_round_trips_apart_from_the_profile(
    backend: Backend,
) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.compliance.get(tenant.id) == Compliance(tenant.id)
        rejected = Compliance(tenant.id, ComplianceStatus.REJECTED, "brand not verified")
        await uow.compliance.save(rejected)
        await uow.tenants.save(attrs.evolve(tenant, name="ACME-PLUMBING & HEATING"))
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.compliance.get(tenant.id, lock=RowLock.UPDATE) == rejected
        assert (await uow.tenants.get(tenant.id)).name == "ACME-PLUMBING & HEATING"  # type: ignore[union-attr]


async def test_compliance_of_a_tenant_that_does_not_exist_is_none(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        missing = a_tenant().id
        await uow.bind_tenant(missing)
        assert await uow.compliance.get(missing, lock=RowLock.SHARE) is None


async def test_by_number_finds_the_owner_of_any_of_its_numbers(backend: Backend) -> None:
    tenant, number = await stored_tenant(backend.new_uow)
    other, others_number = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    second = fresh_number()
    async with backend.new_uow() as uow:
        await uow.numbers.assign(second, tenant.id)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.tenants.by_number(number) == tenant
        assert await uow.tenants.by_number(second) == tenant
        assert await uow.tenants.by_number(others_number) == other
        assert await uow.tenants.by_number(fresh_number()) is None


async def test_numbers_of_a_tenant_are_sorted(backend: Backend) -> None:
    tenant, first = await stored_tenant(backend.new_uow)
    more = [fresh_number() for _ in range(3)]
    async with backend.new_uow() as uow:
        for number in reversed(more):
            await uow.numbers.assign(number, tenant.id)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert list(await uow.numbers.of_tenant(tenant.id)) == sorted([first, *more])


async def test_a_taken_number_raises_and_the_unit_of_work_stores_nothing(backend: Backend) -> None:
    owner, number = await stored_tenant(backend.new_uow)
    newcomer = a_tenant("COPYCAT-PLUMBING")

    async def onboard_with_a_taken_number() -> None:
        async with backend.new_uow() as uow:
            await uow.bind_tenant(newcomer.id)
            await uow.tenants.add(newcomer)
            await uow.numbers.assign(number, newcomer.id)
            await uow.commit()

    with pytest.raises(NumberAlreadyTaken) as raised:
        await onboard_with_a_taken_number()

    assert raised.value.number == number
    async with backend.new_uow() as uow:
        await uow.bind_tenant(newcomer.id)
        assert await uow.tenants.get(newcomer.id) is None
        assert await uow.tenants.by_number(number) == owner
        assert await uow.numbers.of_tenant(newcomer.id) == []


async def test_a_number_cannot_be_assigned_twice_in_one_unit_of_work(backend: Backend) -> None:
    tenant, number = a_tenant(), fresh_number()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.tenants.add(tenant)
        await uow.numbers.assign(number, tenant.id)
        with pytest.raises(NumberAlreadyTaken):
            await uow.numbers.assign(number, tenant.id)
