"""Contract of the subscription mirror (uow.subscriptions), on the fakes and PostgreSQL: one row
per tenant, replaced by the next save, found by Stripe's customer id before any tenant is
bound (the webhook and the worker know only Stripe's ids). Row-level security on
`bill_subscriptions` is the matrix's (tests/integration/test_row_level_security.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import attrs
import pytest

from nmc_domain.billing.model import Subscription, SubscriptionStatus
from nmc_domain.shared.errors import Conflict
from tests.contract.backends import Backend
from tests.contract.builders import stored_tenant

PRICE = "price_1QACMEmonthly"
PERIOD_END = datetime(2025, 2, 6, 15, 0, tzinfo=UTC)
UPDATED = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)


def customer(name: str = "acme") -> str:
    """A fresh Stripe customer id (the PostgreSQL database is shared by the module's tests)."""
    return f"cus_{name}_{uuid.uuid4().hex[:12]}"


def active(tenant_id: UUID, customer_id: str) -> Subscription:
    return Subscription(
        tenant_id=tenant_id,
        customer_id=customer_id,
        subscription_id=f"sub_{uuid.uuid4().hex[:14]}",
        status=SubscriptionStatus.ACTIVE,
        price_id=PRICE,
        current_period_end=PERIOD_END,
        cancel_at_period_end=False,
        updated_at=UPDATED,
    )


async def test_a_tenant_without_a_subscription_has_none(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.subscriptions.get(tenant.id) is None
    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(customer("nobody")) is None


async def test_a_subscription_round_trips_whole(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    saved = active(tenant.id, customer())
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(saved)
        assert await uow.subscriptions.get(tenant.id) == saved  # own writes read back
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        found = await uow.subscriptions.get(tenant.id)
    assert found == saved
    assert found is not None
    assert found.status is SubscriptionStatus.ACTIVE
    assert found.current_period_end == datetime(2025, 2, 6, 15, 0, tzinfo=UTC)


async def test_a_customer_without_a_subscription_yet_round_trips(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    # Checkout made the customer; Stripe has no subscription for it yet.
    bare = Subscription(tenant.id, customer(), None, None, None, None, False, UPDATED)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(bare)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(bare.customer_id) == bare


async def test_a_later_save_replaces_the_tenants_row(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    first = active(tenant.id, customer())
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(first)
        await uow.commit()
    later = attrs.evolve(
        first,
        status=SubscriptionStatus.PAST_DUE,
        price_id="price_1QACMEyearly",
        current_period_end=datetime(2025, 3, 6, 15, 0, tzinfo=UTC),
        cancel_at_period_end=True,
        updated_at=datetime(2025, 2, 7, 9, 30, tzinfo=UTC),
        status_since=datetime(2025, 2, 7, 9, 30, tzinfo=UTC),
    )

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(later)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.subscriptions.get(tenant.id) == later
    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(first.customer_id) == later


async def test_a_new_customer_for_the_tenant_replaces_the_old_one(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    old, new = customer("old"), customer("new")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(active(tenant.id, old))
        await uow.commit()
    renewed = active(tenant.id, new)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(renewed)
        await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(new) == renewed
    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(old) is None


async def test_a_subscription_not_committed_is_forgotten(backend: Backend) -> None:
    tenant, _ = await stored_tenant(backend.new_uow)
    unsaved = active(tenant.id, customer())
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.subscriptions.save(unsaved)

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.subscriptions.get(tenant.id) is None
    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(unsaved.customer_id) is None


async def test_by_customer_finds_each_tenants_row_before_any_tenant_is_bound(
    backend: Backend,
) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    acmes, sparks = active(acme.id, customer("acme")), active(spark.id, customer("spark"))
    for saved in (acmes, sparks):
        async with backend.new_uow() as uow:
            await uow.bind_tenant(saved.tenant_id)
            await uow.subscriptions.save(saved)
            await uow.commit()

    async with backend.new_uow() as uow:
        assert await uow.subscriptions.by_customer(sparks.customer_id) == sparks
        # The lookup bound the transaction to that tenant: its rows read as usual now.
        assert await uow.subscriptions.get(spark.id) == sparks
        tenant = await uow.tenants.get(spark.id)
        assert tenant is not None
        assert tenant.name == "BRIGHT-SPARK-ELECTRIC"
        # And to the next customer's tenant, in the same transaction.
        assert await uow.subscriptions.by_customer(acmes.customer_id) == acmes
        assert await uow.subscriptions.get(acme.id) == acmes


async def test_a_customer_belongs_to_one_tenant(backend: Backend) -> None:
    acme, _ = await stored_tenant(backend.new_uow)
    spark, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK-ELECTRIC")
    shared = customer("shared")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(acme.id)
        await uow.subscriptions.save(active(acme.id, shared))
        await uow.commit()

    async def save_for_spark() -> None:
        async with backend.new_uow() as uow:
            await uow.bind_tenant(spark.id)
            await uow.subscriptions.save(active(spark.id, shared))
            await uow.commit()

    with pytest.raises(Conflict) as refused:
        await save_for_spark()
    assert refused.value.field == "customer_id"

    async with backend.new_uow() as uow:
        found = await uow.subscriptions.by_customer(shared)
    assert found is not None
    assert found.tenant_id == acme.id
