"""Billing's sync and checkout against the in-memory payment gateway (nmc_adapters.memory)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nmc_adapters.memory.billing import FakePaymentGateway
from nmc_domain.billing.errors import PaymentProviderError
from nmc_domain.billing.events import SubscriptionChanged
from nmc_domain.billing.model import BillingTerms, Subscription, SubscriptionStatus
from nmc_domain.billing.ports import ProviderSubscription
from nmc_domain.billing.use_cases import BillingLinks, start_checkout, sync_subscription
from tests.support.conversations import Shop, open_shop

LINKS = BillingLinks(
    "https://app.example/billing?checkout=success",
    "https://app.example/billing?checkout=canceled",
    "https://app.example/billing",
)
PERIOD_END = datetime(2025, 2, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
async def shop() -> Shop:
    return await open_shop(billing_terms=BillingTerms(enforced=True))


def _events(shop: Shop) -> list[SubscriptionChanged]:
    return [
        row.event for row in shop.store.outbox_rows if isinstance(row.event, SubscriptionChanged)
    ]


async def test_sync_reads_the_customers_latest_subscription_first(shop: Shop) -> None:
    gateway = FakePaymentGateway()
    gateway.set_subscription(
        ProviderSubscription("sub_new", "cus_acme", "active", "price_plan", PERIOD_END, False)
    )

    mirror = await sync_subscription(
        shop.new_uow(), gateway, shop.tenant.id, subscription_id="sub_gone", customer_id="cus_acme"
    )

    assert mirror is not None
    assert (mirror.subscription_id, mirror.status) == ("sub_new", SubscriptionStatus.ACTIVE)
    assert gateway.reads == ["cus_acme"]  # the named subscription is not read at all
    [changed] = _events(shop)
    assert (changed.previous_status, changed.status) == (None, "active")


async def test_a_stripe_failure_leaves_the_mirror_as_it_was_for_the_worker_to_retry(
    shop: Shop,
) -> None:
    gateway = FakePaymentGateway()
    gateway.set_subscription(
        ProviderSubscription("sub_1", "cus_acme", "past_due", "price_plan", PERIOD_END, False)
    )
    gateway.fail_next()

    with pytest.raises(PaymentProviderError, match="HTTP 500"):
        await sync_subscription(shop.new_uow(), gateway, shop.tenant.id, subscription_id="sub_1")
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        assert await uow.subscriptions.get(shop.tenant.id) is None
    assert _events(shop) == []

    mirror = await sync_subscription(
        shop.new_uow(), gateway, shop.tenant.id, subscription_id="sub_1"
    )
    assert mirror is not None
    assert mirror.status is SubscriptionStatus.PAST_DUE


async def test_two_clicks_make_one_checkout_and_a_portal_link_follows_the_customer(
    shop: Shop,
) -> None:
    gateway = FakePaymentGateway()

    first = await start_checkout(shop.new_uow(), gateway, shop.owner, LINKS)
    second = await start_checkout(shop.new_uow(), gateway, shop.owner, LINKS)

    assert first == second == "https://checkout.stripe.test/c/pay/cs_test_1"
    [request] = gateway.checkouts.values()
    assert (request.tenant_id, request.customer_id) == (shop.tenant.id, None)
    assert request.email == "owner@acme-plumbing.example"
    assert request.success_url == "https://app.example/billing?checkout=success"


async def test_a_row_from_before_status_since_keeps_its_grace_start_across_a_sync(
    shop: Shop,
) -> None:
    went_past_due = datetime(2025, 1, 2, 9, 0, tzinfo=UTC)
    async with shop.new_uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        await uow.subscriptions.save(
            Subscription(
                tenant_id=shop.tenant.id,
                customer_id="cus_acme",
                subscription_id="sub_1",
                status=SubscriptionStatus.PAST_DUE,
                price_id="price_plan",
                current_period_end=PERIOD_END,
                cancel_at_period_end=False,
                updated_at=went_past_due,
                status_since=None,
            )
        )
        await uow.commit()
    gateway = FakePaymentGateway()
    later_period = datetime(2025, 3, 6, 15, 0, tzinfo=UTC)
    gateway.set_subscription(
        ProviderSubscription("sub_1", "cus_acme", "past_due", "price_plan", later_period, False)
    )

    mirror = await sync_subscription(shop.new_uow(), gateway, shop.tenant.id)

    assert mirror is not None
    assert mirror.current_period_end == later_period
    assert mirror.status_since == went_past_due  # the grace does not start over
    assert _events(shop) == []
