"""Billing's use cases on the in-memory fakes (billing enforced, as where Stripe is configured):
checkout and its idempotency key, the portal, Stripe's events remembered once and handed to the
worker, the mirror's sync from the provider, and what GET /v1/billing shows.

The store's clock starts on Monday Jan 6 2025, 15:00 UTC (tests.support: DEFAULT_START).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_domain.billing.errors import BillingNotConfigured
from nmc_domain.billing.events import SubscriptionChanged, SubscriptionSyncRequested
from nmc_domain.billing.model import BillingTerms, Subscription, SubscriptionStatus
from nmc_domain.billing.ports import ProviderSubscription
from nmc_domain.billing.use_cases import (
    BillingLinks,
    BillingView,
    StripeNotice,
    StripeOutcome,
    billing_status,
    open_portal,
    receive_stripe_event,
    start_checkout,
    sync_subscription,
    tenant_billing,
)
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user
from nmc_domain.shared.errors import InvalidInput, NotFound, PermissionDenied, TenantNotFound
from nmc_domain.tenancy.model import Tenant
from tests.support.tenants import onboard

ENFORCED = BillingTerms(enforced=True)
OWNER_EMAIL = "owner@acme-plumbing.example"  # tests.support.tenants.onboard's owner
TECH_EMAIL = "dana@acme-plumbing.example"
LINKS = BillingLinks(
    success_url="https://app.acme-plumbing.example/app/billing?checkout=success",
    cancel_url="https://app.acme-plumbing.example/app/billing?checkout=canceled",
    return_url="https://app.acme-plumbing.example/app/billing",
)
CUSTOMER = "cus_ACMEplumbing01"
SUB = "sub_1QACMEplumbing01"
PRICE = "price_1QACMEmonthly"
NOW = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
PERIOD_END = datetime(2025, 2, 6, 15, 0, tzinfo=UTC)


class FakeGateway:
    """A PaymentGateway in memory: records what it was asked, knows the subscriptions set."""

    def __init__(self) -> None:
        self.checkouts: list[dict[str, Any]] = []
        self.portals: list[dict[str, Any]] = []
        self.reads: list[tuple[str, str]] = []
        self._subscriptions: dict[str, ProviderSubscription] = {}

    def set(self, subscription_id: str = SUB, **fields: Any) -> ProviderSubscription:
        values: dict[str, Any] = {
            "subscription_id": subscription_id,
            "customer_id": CUSTOMER,
            "status": "active",
            "price_id": PRICE,
            "current_period_end": PERIOD_END,
            "cancel_at_period_end": False,
        }
        values.update(fields)
        sub = ProviderSubscription(**values)
        self._subscriptions.pop(subscription_id, None)  # re-set: newest last
        self._subscriptions[subscription_id] = sub
        return sub

    async def checkout_url(self, **request: Any) -> str:
        self.checkouts.append(request)
        return f"https://checkout.stripe.example/c/pay/cs_{len(self.checkouts)}"

    async def portal_url(self, *, customer_id: str, return_url: str) -> str:
        self.portals.append({"customer_id": customer_id, "return_url": return_url})
        return f"https://billing.stripe.example/p/session/{customer_id}"

    async def subscription(self, subscription_id: str) -> ProviderSubscription | None:
        self.reads.append(("subscription", subscription_id))
        return self._subscriptions.get(subscription_id)

    async def customer_subscription(self, customer_id: str) -> ProviderSubscription | None:
        self.reads.append(("customer", customer_id))
        mine = [s for s in self._subscriptions.values() if s.customer_id == customer_id]
        return mine[-1] if mine else None


@attrs.define
class Billing:
    store: InMemoryStore
    tenant: Tenant
    owner: Principal
    tech: Principal
    gateway: FakeGateway
    terms: BillingTerms = ENFORCED

    def new_uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store, billing_terms=self.terms)

    def mirror(self, tenant_id: uuid.UUID | None = None) -> Subscription | None:
        found: Subscription | None = self.store.subscriptions.get(tenant_id or self.tenant.id)
        return found

    def billing_rows(self) -> list[Any]:
        """The outbox rows billing wrote (onboarding wrote a compliance one before)."""
        return [row for row in self.store.outbox_rows if row.topic.startswith("billing.")]

    def events(self, kind: type) -> list[Any]:
        return [e for e in self.store.outbox_events() if isinstance(e, kind)]

    async def save(self, **fields: Any) -> Subscription:
        values: dict[str, Any] = {
            "tenant_id": self.tenant.id,
            "customer_id": CUSTOMER,
            "subscription_id": SUB,
            "status": SubscriptionStatus.ACTIVE,
            "price_id": PRICE,
            "current_period_end": PERIOD_END,
            "cancel_at_period_end": False,
            "updated_at": self.store.now,
        }
        values.update(fields)
        subscription = Subscription(**values)
        async with self.new_uow() as uow:
            await uow.bind_tenant(subscription.tenant_id)
            await uow.subscriptions.save(subscription)
            await uow.commit()
        return subscription

    async def receive(self, **fields: Any) -> StripeOutcome:
        return await receive_stripe_event(self.new_uow(), notice(**fields))

    async def sync(self, **ids: str | None) -> Subscription | None:
        return await sync_subscription(self.new_uow(), self.gateway, self.tenant.id, **ids)


def notice(**fields: Any) -> StripeNotice:
    values: dict[str, Any] = {
        "event_id": "evt_" + uuid.uuid4().hex[:24],
        "type": "customer.subscription.updated",
        "customer_id": CUSTOMER,
        "subscription_id": SUB,
        "tenant_hint": None,
    }
    values.update(fields)
    return StripeNotice(**values)


async def open_billing(store: InMemoryStore | None = None) -> Billing:
    store = store or InMemoryStore()
    tenant, _ = await onboard(lambda: InMemoryUnitOfWork(store))
    owner = Principal(OWNER_EMAIL, tenant.id)
    await add_user(InMemoryUnitOfWork(store), owner, email=TECH_EMAIL, role="TECH")
    return Billing(store, tenant, owner, Principal(TECH_EMAIL, tenant.id), FakeGateway())


@pytest.fixture
async def acme() -> Billing:
    return await open_billing()


# --- checkout ------------------------------------------------------------------------------


async def test_checkout_before_any_customer_passes_the_owners_email(acme: Billing) -> None:
    url = await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS, "click-1")

    assert url == "https://checkout.stripe.example/c/pay/cs_1"
    [request] = acme.gateway.checkouts
    assert request["tenant_id"] == acme.tenant.id
    assert request["customer_id"] is None
    assert request["email"] == OWNER_EMAIL
    assert request["success_url"] == LINKS.success_url
    assert request["cancel_url"] == LINKS.cancel_url
    assert request["idempotency_key"].startswith("nmc-")


async def test_checkout_of_a_known_customer_passes_the_customer_not_the_email(
    acme: Billing,
) -> None:
    await acme.save(status=SubscriptionStatus.CANCELED)

    await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS, "click-1")

    [request] = acme.gateway.checkouts
    assert (request["customer_id"], request["email"]) == (CUSTOMER, None)


async def test_the_same_request_key_gives_the_same_idempotency_key(acme: Billing) -> None:
    for key in ("click-1", "click-1", "click-2"):
        await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS, key)

    first, again, other = (r["idempotency_key"] for r in acme.gateway.checkouts)
    assert first == again
    assert other != first


async def test_a_double_click_without_a_key_gives_the_same_idempotency_key(
    acme: Billing,
) -> None:
    await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS)
    acme.store.advance(5)
    await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS)

    first, second = (r["idempotency_key"] for r in acme.gateway.checkouts)
    assert first == second


async def test_different_tenants_get_different_keys_for_the_same_request_key() -> None:
    store = InMemoryStore()
    acme, other = await open_billing(store), await open_billing(store)

    await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS, "click-1")
    await start_checkout(other.new_uow(), other.gateway, other.owner, LINKS, "click-1")

    [mine], [theirs] = acme.gateway.checkouts, other.gateway.checkouts
    assert mine["idempotency_key"] != theirs["idempotency_key"]


async def test_a_tech_may_not_start_a_checkout(acme: Billing) -> None:
    with pytest.raises(PermissionDenied):
        await start_checkout(acme.new_uow(), acme.gateway, acme.tech, LINKS, "click-1")

    assert acme.gateway.checkouts == []


async def test_checkout_without_stripe_configured_is_billing_not_configured(
    acme: Billing,
) -> None:
    acme.terms = BillingTerms()

    with pytest.raises(BillingNotConfigured, match="billing is not configured"):
        await start_checkout(acme.new_uow(), acme.gateway, acme.owner, LINKS, "click-1")

    assert acme.gateway.checkouts == []


# --- portal --------------------------------------------------------------------------------


async def test_the_portal_before_any_customer_is_not_found(acme: Billing) -> None:
    with pytest.raises(NotFound):
        await open_portal(acme.new_uow(), acme.gateway, acme.owner, LINKS)

    assert acme.gateway.portals == []


async def test_the_portal_opens_for_the_tenants_customer(acme: Billing) -> None:
    await acme.save()

    url = await open_portal(acme.new_uow(), acme.gateway, acme.owner, LINKS)

    assert url == f"https://billing.stripe.example/p/session/{CUSTOMER}"
    assert acme.gateway.portals == [{"customer_id": CUSTOMER, "return_url": LINKS.return_url}]


async def test_a_tech_may_not_open_the_portal(acme: Billing) -> None:
    await acme.save()

    with pytest.raises(PermissionDenied):
        await open_portal(acme.new_uow(), acme.gateway, acme.tech, LINKS)


# --- Stripe's events -------------------------------------------------------------------------


async def test_checkout_completed_names_the_tenant_and_creates_the_mirror_row(
    acme: Billing,
) -> None:
    event = notice(
        type="checkout.session.completed",
        customer_id="cus_NewCustomer01",
        subscription_id="sub_NewSubscription01",
        tenant_hint=str(acme.tenant.id),
        payload={"type": "checkout.session.completed"},
    )

    outcome = await receive_stripe_event(acme.new_uow(), event)

    assert outcome is StripeOutcome.SYNC_QUEUED
    assert acme.mirror() == Subscription(
        tenant_id=acme.tenant.id,
        customer_id="cus_NewCustomer01",
        subscription_id="sub_NewSubscription01",
        status=None,
        price_id=None,
        current_period_end=None,
        cancel_at_period_end=False,
        updated_at=NOW,
    )
    assert acme.events(SubscriptionSyncRequested) == [
        SubscriptionSyncRequested(
            acme.tenant.id, "sub_NewSubscription01", "cus_NewCustomer01", event.event_id
        )
    ]
    stored = acme.store.webhook_events["stripe", event.event_id]
    assert (stored.tenant_id, dict(stored.payload)) == (
        acme.tenant.id,
        {"type": "checkout.session.completed"},
    )


async def test_a_known_customers_event_finds_its_tenant_without_a_hint(acme: Billing) -> None:
    await acme.save()

    outcome = await acme.receive(type="invoice.payment_failed", tenant_hint=None)

    assert outcome is StripeOutcome.SYNC_QUEUED
    [requested] = acme.events(SubscriptionSyncRequested)
    assert (requested.tenant_id, requested.subscription_id, requested.customer_id) == (
        acme.tenant.id,
        SUB,
        CUSTOMER,
    )


async def test_a_metadata_hint_names_the_tenant_of_a_subscription_event(acme: Billing) -> None:
    outcome = await acme.receive(
        type="customer.subscription.created", tenant_hint=str(acme.tenant.id)
    )

    assert outcome is StripeOutcome.SYNC_QUEUED
    assert acme.mirror() is not None
    assert acme.mirror().customer_id == CUSTOMER  # type: ignore[union-attr]


async def test_a_replayed_event_is_a_duplicate_and_queues_one_sync(acme: Billing) -> None:
    await acme.save()
    event = notice(type="customer.subscription.updated")

    outcomes = [await receive_stripe_event(acme.new_uow(), event) for _ in range(3)]

    assert outcomes == [
        StripeOutcome.SYNC_QUEUED,
        StripeOutcome.DUPLICATE,
        StripeOutcome.DUPLICATE,
    ]
    assert len(acme.billing_rows()) == 1
    assert len(acme.events(SubscriptionSyncRequested)) == 1
    assert [key for key in acme.store.webhook_events] == [("stripe", event.event_id)]


async def test_an_unhandled_type_is_recorded_and_ignored(acme: Billing) -> None:
    await acme.save()
    event = notice(type="charge.refunded")

    outcome = await receive_stripe_event(acme.new_uow(), event)

    assert outcome is StripeOutcome.IGNORED
    assert ("stripe", event.event_id) in acme.store.webhook_events
    assert acme.billing_rows() == []
    # Recorded: the same event again is a duplicate, not ignored a second time.
    assert await receive_stripe_event(acme.new_uow(), event) is StripeOutcome.DUPLICATE


@pytest.mark.parametrize(
    "hint",
    [None, "not-a-uuid", "00000000-0000-4000-8000-00000000dead"],
    ids=["no-hint", "garbage-hint", "unknown-tenant-hint"],
)
async def test_an_event_no_tenant_claims_is_unknown_tenant(acme: Billing, hint: str | None) -> None:
    event = notice(
        customer_id="cus_Nobody00001", subscription_id="sub_Nobody00001", tenant_hint=hint
    )

    outcome = await receive_stripe_event(acme.new_uow(), event)

    assert outcome is StripeOutcome.UNKNOWN_TENANT
    stored = acme.store.webhook_events["stripe", event.event_id]
    assert stored.tenant_id is None
    assert acme.billing_rows() == []
    assert dict(acme.store.subscriptions) == {}


# --- the mirror's sync -------------------------------------------------------------------------


async def test_sync_saves_the_providers_state_and_says_the_status_changed(acme: Billing) -> None:
    await acme.save(status=None, price_id=None, current_period_end=None)
    acme.gateway.set(status="active", cancel_at_period_end=True)

    mirror = await acme.sync()

    expected = Subscription(
        tenant_id=acme.tenant.id,
        customer_id=CUSTOMER,
        subscription_id=SUB,
        status=SubscriptionStatus.ACTIVE,
        price_id=PRICE,
        current_period_end=PERIOD_END,
        cancel_at_period_end=True,
        updated_at=NOW,
        status_since=NOW,
    )
    assert mirror == expected
    assert acme.mirror() == expected
    assert acme.events(SubscriptionChanged) == [
        SubscriptionChanged(acme.tenant.id, None, "active", NOW)
    ]


async def test_sync_of_an_unchanged_subscription_writes_and_emits_nothing(
    acme: Billing,
) -> None:
    saved = await acme.save()
    acme.gateway.set()
    acme.store.advance(60)

    mirror = await acme.sync()

    assert mirror == saved
    assert acme.mirror() == saved  # updated_at not moved either
    assert acme.billing_rows() == []


async def test_sync_of_a_change_that_keeps_the_status_emits_no_status_change(
    acme: Billing,
) -> None:
    await acme.save()
    later = PERIOD_END + timedelta(days=30)
    acme.gateway.set(current_period_end=later, cancel_at_period_end=True)
    acme.store.advance(60)

    await acme.sync()

    mirror = acme.mirror()
    assert mirror is not None
    assert (mirror.current_period_end, mirror.cancel_at_period_end) == (later, True)
    assert mirror.updated_at == NOW + timedelta(seconds=60)
    assert acme.events(SubscriptionChanged) == []


async def test_status_since_is_kept_by_a_sync_that_changes_only_other_fields(
    acme: Billing,
) -> None:
    await acme.save()
    acme.gateway.set(status="past_due")
    acme.store.advance(3600)
    became = await acme.sync()  # Jan 6, 16:00: the renewal's payment failed
    assert became is not None
    assert became.status_since == datetime(2025, 1, 6, 16, 0, tzinfo=UTC)
    later = PERIOD_END + timedelta(days=28)
    acme.gateway.set(status="past_due", current_period_end=later, cancel_at_period_end=True)
    acme.store.advance(2 * 24 * 3600)

    mirror = await acme.sync()  # Jan 8, 16:00: still past due

    expected = Subscription(
        tenant_id=acme.tenant.id,
        customer_id=CUSTOMER,
        subscription_id=SUB,
        status=SubscriptionStatus.PAST_DUE,
        price_id=PRICE,
        current_period_end=datetime(2025, 3, 6, 15, 0, tzinfo=UTC),
        cancel_at_period_end=True,
        updated_at=datetime(2025, 1, 8, 16, 0, tzinfo=UTC),
        status_since=datetime(2025, 1, 6, 16, 0, tzinfo=UTC),
    )
    assert mirror == expected
    assert acme.mirror() == expected
    assert [(e.previous_status, e.status) for e in acme.events(SubscriptionChanged)] == [
        ("active", "past_due")
    ]


async def test_a_new_status_moves_status_since_to_the_syncs_time(acme: Billing) -> None:
    await acme.save(status=SubscriptionStatus.PAST_DUE, status_since=NOW)
    acme.gateway.set(status="active")
    acme.store.advance(3 * 24 * 3600)

    mirror = await acme.sync()

    assert mirror is not None
    assert (mirror.status, mirror.status_since, mirror.updated_at) == (
        SubscriptionStatus.ACTIVE,
        datetime(2025, 1, 9, 15, 0, tzinfo=UTC),
        datetime(2025, 1, 9, 15, 0, tzinfo=UTC),
    )


async def test_each_status_change_emits_one_event_with_the_previous_status(
    acme: Billing,
) -> None:
    await acme.save(status=SubscriptionStatus.ACTIVE)

    for status in ("past_due", "past_due", "active", "canceled"):
        acme.gateway.set(status=status)
        await acme.sync()

    assert [(e.previous_status, e.status) for e in acme.events(SubscriptionChanged)] == [
        ("active", "past_due"),
        ("past_due", "active"),
        ("active", "canceled"),
    ]
    assert acme.mirror().status is SubscriptionStatus.CANCELED  # type: ignore[union-attr]


async def test_the_customers_newest_subscription_wins_over_the_named_one(
    acme: Billing,
) -> None:
    await acme.save(subscription_id="sub_Named00001", status=SubscriptionStatus.CANCELED)
    acme.gateway.set("sub_Named00001", status="canceled")
    acme.gateway.set("sub_Newest0001", status="active")

    mirror = await acme.sync(subscription_id="sub_Named00001", customer_id=CUSTOMER)

    assert mirror is not None
    assert (mirror.subscription_id, mirror.status) == ("sub_Newest0001", SubscriptionStatus.ACTIVE)
    assert acme.gateway.reads == [("customer", CUSTOMER)]
    assert [(e.previous_status, e.status) for e in acme.events(SubscriptionChanged)] == [
        ("canceled", "active")
    ]


async def test_with_no_customer_known_the_named_subscription_is_read(acme: Billing) -> None:
    acme.gateway.set(SUB, status="trialing")

    mirror = await acme.sync(subscription_id=SUB)

    assert acme.gateway.reads == [("subscription", SUB)]
    expected = Subscription(
        tenant_id=acme.tenant.id,
        customer_id=CUSTOMER,
        subscription_id=SUB,
        status=SubscriptionStatus.TRIALING,
        price_id=PRICE,
        current_period_end=PERIOD_END,
        cancel_at_period_end=False,
        updated_at=NOW,
        status_since=NOW,
    )
    assert mirror == expected
    assert acme.mirror() == expected


async def test_a_late_sync_for_a_replaced_subscription_keeps_the_current_one(
    acme: Billing,
) -> None:
    # The first plan was canceled; the owner subscribed again (same customer). A late event
    # about the first plan asks for a sync naming it: Stripe's latest state for this customer
    # is still the new, active plan.
    current = await acme.save(subscription_id="sub_Second0001", status=SubscriptionStatus.ACTIVE)
    acme.gateway.set("sub_First00001", status="canceled")
    acme.gateway.set("sub_Second0001", status="active")

    mirror = await acme.sync(subscription_id="sub_First00001", customer_id=CUSTOMER)

    assert mirror == current
    assert acme.mirror() == current
    assert acme.events(SubscriptionChanged) == []


async def test_sync_reads_the_mirrors_own_customer_when_given_none(acme: Billing) -> None:
    await acme.save(status=None)
    acme.gateway.set(status="trialing")

    mirror = await acme.sync()

    assert acme.gateway.reads == [("customer", CUSTOMER)]
    assert mirror is not None
    assert mirror.status is SubscriptionStatus.TRIALING


async def test_sync_of_a_tenant_stripe_knows_nothing_of_leaves_no_mirror(acme: Billing) -> None:
    assert await acme.sync() is None

    assert acme.mirror() is None
    assert acme.billing_rows() == []


async def test_sync_of_an_unknown_tenant_is_tenant_not_found(acme: Billing) -> None:
    with pytest.raises(TenantNotFound):
        await sync_subscription(acme.new_uow(), acme.gateway, uuid.uuid4(), customer_id=CUSTOMER)


async def test_sync_refuses_a_status_stripe_never_defined(acme: Billing) -> None:
    saved = await acme.save()
    acme.gateway.set(status="on_vacation")

    with pytest.raises(InvalidInput):
        await acme.sync()

    assert acme.mirror() == saved


async def test_sync_without_stripe_configured_is_billing_not_configured(acme: Billing) -> None:
    acme.terms = BillingTerms()
    acme.gateway.set()

    with pytest.raises(BillingNotConfigured):
        await acme.sync(customer_id=CUSTOMER)

    assert acme.gateway.reads == []


# --- what GET /v1/billing shows ----------------------------------------------------------------


async def test_the_status_before_any_plan_is_empty_and_not_entitled(acme: Billing) -> None:
    view = await billing_status(acme.new_uow(), acme.owner)

    assert view == BillingView(
        status=None,
        plan=None,
        current_period_end=None,
        cancel_at_period_end=False,
        entitled=False,
        banner="No plan yet: subscribe to start texting back",
    )


async def test_an_active_plan_shows_its_fields_to_a_tech_too(acme: Billing) -> None:
    await acme.save()

    view = await billing_status(acme.new_uow(), acme.tech)

    assert view == BillingView(
        status=SubscriptionStatus.ACTIVE,
        plan=PRICE,
        current_period_end=PERIOD_END,
        cancel_at_period_end=False,
        entitled=True,
        banner=None,
    )


async def test_a_failed_payment_is_entitled_with_the_card_banner(acme: Billing) -> None:
    # The renewal of Jan 3 failed (past due since Jan 3, 12:00): the grace (7 days) runs to
    # Jan 10, whatever the period end Stripe moved on to (Feb 6).
    await acme.save(
        status=SubscriptionStatus.PAST_DUE,
        current_period_end=PERIOD_END,
        status_since=datetime(2025, 1, 3, 12, 0, tzinfo=UTC),
    )

    view = await billing_status(acme.new_uow(), acme.owner)

    assert view.status is SubscriptionStatus.PAST_DUE
    assert view.entitled is True
    assert view.banner == "Payment failed: update your card by Jan 10"


async def test_a_payment_failing_at_the_sync_gives_a_week_from_the_sync(acme: Billing) -> None:
    # Stripe moved the period on to Mar 6 when it made the renewal invoice; the payment then
    # failed and the worker synced at Jan 6, 16:00.
    await acme.save()
    acme.gateway.set(status="past_due", current_period_end=datetime(2025, 3, 6, 15, 0, tzinfo=UTC))
    acme.store.advance(3600)
    await acme.sync()
    acme.store.advance(7 * 24 * 3600 - 1)  # Jan 13, 15:59:59

    view = await billing_status(acme.new_uow(), acme.owner)
    acme.store.advance(1)
    after = await billing_status(acme.new_uow(), acme.owner)

    assert (view.entitled, view.banner) == (True, "Payment failed: update your card by Jan 13")
    assert (after.entitled, after.banner) == (
        False,
        "Payment failed: texting is paused until you update your card",
    )


async def test_a_plan_ending_at_period_end_says_when(acme: Billing) -> None:
    await acme.save(cancel_at_period_end=True)

    view = await billing_status(acme.new_uow(), acme.owner)

    assert (view.entitled, view.cancel_at_period_end) == (True, True)
    assert view.banner == "Your plan ends on Feb 6: renew it to keep texting back"


async def test_a_canceled_plan_is_not_entitled(acme: Billing) -> None:
    await acme.save(status=SubscriptionStatus.CANCELED)

    view = await billing_status(acme.new_uow(), acme.owner)

    assert (view.status, view.entitled) == (SubscriptionStatus.CANCELED, False)
    assert view.banner == "Your plan is not active: subscribe again to resume texting"


async def test_the_status_without_stripe_configured_is_billing_not_configured(
    acme: Billing,
) -> None:
    acme.terms = BillingTerms()

    with pytest.raises(BillingNotConfigured):
        await billing_status(acme.new_uow(), acme.owner)


async def test_the_operators_view_of_an_unknown_tenant_is_tenant_not_found(acme: Billing) -> None:
    await acme.save()

    assert (await tenant_billing(acme.new_uow(), acme.tenant.id)).plan == PRICE
    with pytest.raises(TenantNotFound):
        await tenant_billing(acme.new_uow(), uuid.uuid4())
