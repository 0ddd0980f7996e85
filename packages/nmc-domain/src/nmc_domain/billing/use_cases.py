"""Billing's use cases: checkout, the portal, the status, Stripe's events and the mirror's sync."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.billing.errors import BillingNotConfigured
from nmc_domain.billing.events import SubscriptionChanged, SubscriptionSyncRequested
from nmc_domain.billing.model import (
    Entitlement,
    Subscription,
    SubscriptionStatus,
    entitlement,
)
from nmc_domain.billing.ports import BillingUnitOfWork, PaymentGateway, ProviderSubscription
from nmc_domain.identity.access import authorize
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import InvalidInput, NotFound, TenantNotFound
from nmc_domain.shared.ports import RowLock

__all__ = [
    "STRIPE_EVENTS",
    "BillingLinks",
    "BillingView",
    "StripeNotice",
    "StripeOutcome",
    "billing_status",
    "entitlement_of",
    "open_portal",
    "receive_stripe_event",
    "start_checkout",
    "sync_subscription",
    "tenant_billing",
]

STRIPE_EVENTS = "stripe"  # the provider name of Stripe's events in the webhook event log
# The events that can change a subscription: each makes the worker re-read it from Stripe.
HANDLED = frozenset(
    {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.paid",
        "invoice.payment_failed",
    }
)
# Two clicks on "subscribe" within this window make one Checkout Session.
_CHECKOUT_WINDOW_SECONDS = 600

BillingUnitOfWorkFactory = Callable[[], BillingUnitOfWork]


async def entitlement_of(uow: BillingUnitOfWork, tenant_id: UUID) -> Entitlement:
    """The tenant's entitlement now (on the unit of work's clock), inside its transaction."""
    if not uow.billing_terms.enforced:
        return Entitlement(True)
    subscription = await uow.subscriptions.get(tenant_id)
    return entitlement(subscription, uow.billing_terms, await uow.now())


@attrs.frozen
class BillingLinks:
    """Where Stripe sends the owner back to (the web app's billing page)."""

    success_url: str
    cancel_url: str
    return_url: str


@attrs.frozen
class BillingView:
    """What `GET /v1/billing` shows."""

    status: SubscriptionStatus | None
    plan: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    entitled: bool
    banner: str | None


def _require_billing(uow: BillingUnitOfWork) -> None:
    if not uow.billing_terms.enforced:
        raise BillingNotConfigured()


async def billing_status(uow: BillingUnitOfWork, principal: Principal) -> BillingView:
    """The tenant's plan and whether it may text (any role)."""
    async with uow:
        await authorize(uow, principal)
        _require_billing(uow)
        return await _view(uow, principal.tenant_id)


async def tenant_billing(uow: BillingUnitOfWork, tenant_id: UUID) -> BillingView:
    """The same, for the people who run NMC (`nmc billing status`)."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        _require_billing(uow)
        if await uow.tenants.get(tenant_id) is None:
            raise TenantNotFound(tenant_id)
        return await _view(uow, tenant_id)


async def _view(uow: BillingUnitOfWork, tenant_id: UUID) -> BillingView:
    subscription = await uow.subscriptions.get(tenant_id)
    granted = entitlement(subscription, uow.billing_terms, await uow.now())
    if subscription is None:
        return BillingView(None, None, None, False, granted.entitled, granted.banner)
    return BillingView(
        status=subscription.status,
        plan=subscription.price_id,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        entitled=granted.entitled,
        banner=granted.banner,
    )


async def start_checkout(
    uow: BillingUnitOfWork,
    gateway: PaymentGateway,
    principal: Principal,
    links: BillingLinks,
    request_key: str | None = None,
) -> str:
    """A Checkout Session's URL for the plan (OWNER). The Idempotency-Key is derived from the
    tenant and the request (the client's key, else a ten-minute window), so a double click
    makes one session."""
    async with uow:
        owner = await authorize(uow, principal, owner=True)
        _require_billing(uow)
        subscription = await uow.subscriptions.get(principal.tenant_id)
        now = await uow.now()
    customer = None if subscription is None else subscription.customer_id
    window = request_key or str(int(now.timestamp()) // _CHECKOUT_WINDOW_SECONDS)
    key = _key("checkout", str(principal.tenant_id), customer or "", window)
    return await gateway.checkout_url(
        tenant_id=principal.tenant_id,
        customer_id=customer,
        email=None if customer else owner.email,
        idempotency_key=key,
        success_url=links.success_url,
        cancel_url=links.cancel_url,
    )


async def open_portal(
    uow: BillingUnitOfWork, gateway: PaymentGateway, principal: Principal, links: BillingLinks
) -> str:
    """A Customer Portal session's URL (OWNER); 404 before the first checkout."""
    async with uow:
        await authorize(uow, principal, owner=True)
        _require_billing(uow)
        subscription = await uow.subscriptions.get(principal.tenant_id)
    if subscription is None:
        raise NotFound("billing customer", "none yet: subscribe first (POST /v1/billing/checkout)")
    return await gateway.portal_url(
        customer_id=subscription.customer_id, return_url=links.return_url
    )


def _key(*parts: str) -> str:
    return "nmc-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


@attrs.frozen
class StripeNotice:
    """A verified Stripe event, reduced to what the mirror needs."""

    event_id: str
    type: str
    customer_id: str | None
    subscription_id: str | None
    # client_reference_id or metadata.tenant_id: set by our checkout on what it creates.
    tenant_hint: str | None
    payload: Mapping[str, str] = attrs.field(factory=dict)


class StripeOutcome(StrEnum):
    """What a Stripe event led to (the webhook answers 200 in every case)."""

    SYNC_QUEUED = "sync_queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # a type we do not act on
    UNKNOWN_TENANT = "unknown_tenant"  # no tenant claims its customer or reference


async def receive_stripe_event(uow: BillingUnitOfWork, notice: StripeNotice) -> StripeOutcome:
    """Remember the event once and ask the worker to re-read the subscription from Stripe.

    Events arrive late, out of order and more than once; the mirror is never written from an
    event's own (maybe stale) copy: the worker reads Stripe's latest state instead.
    """
    async with uow:
        tenant_id = await _tenant_of(uow, notice)
        if not await uow.webhooks.record(STRIPE_EVENTS, notice.event_id, tenant_id, notice.payload):
            return StripeOutcome.DUPLICATE
        if notice.type not in HANDLED:
            await uow.commit()
            return StripeOutcome.IGNORED
        if tenant_id is None:
            await uow.commit()
            return StripeOutcome.UNKNOWN_TENANT
        await uow.bind_tenant(tenant_id)
        now = await uow.now()
        if notice.customer_id is not None:
            current = await uow.subscriptions.get(tenant_id, lock=RowLock.UPDATE)
            if current is None:
                # The first sign of this customer: the mirror knows whose it is from now on.
                await uow.subscriptions.save(
                    Subscription(
                        tenant_id=tenant_id,
                        customer_id=notice.customer_id,
                        subscription_id=notice.subscription_id,
                        status=None,
                        price_id=None,
                        current_period_end=None,
                        cancel_at_period_end=False,
                        updated_at=now,
                    )
                )
        await uow.outbox.add(
            SubscriptionSyncRequested(
                tenant_id, notice.subscription_id, notice.customer_id, notice.event_id
            )
        )
        await uow.commit()
        return StripeOutcome.SYNC_QUEUED


async def _tenant_of(uow: BillingUnitOfWork, notice: StripeNotice) -> UUID | None:
    if notice.customer_id is not None:
        known = await uow.subscriptions.by_customer(notice.customer_id)
        if known is not None:
            return known.tenant_id
    if notice.tenant_hint:
        try:
            hinted = UUID(notice.tenant_hint)
        except ValueError:
            return None
        await uow.bind_tenant(hinted)  # row-level security: a tenant is read bound to itself
        if await uow.tenants.get(hinted) is not None:
            return hinted
    return None


async def sync_subscription(
    uow: BillingUnitOfWork,
    gateway: PaymentGateway,
    tenant_id: UUID,
    *,
    subscription_id: str | None = None,
    customer_id: str | None = None,
) -> Subscription | None:
    """Re-read the tenant's subscription from Stripe and make the mirror say the same.

    The mirror row stays locked while Stripe is asked, so two syncs of one tenant run one
    after the other and the later reading is the one kept. Emits
    `billing.subscription_changed.v1` when the status changed. Returns the mirror (None when
    the tenant has no Stripe customer yet).
    """
    async with uow:
        await uow.bind_tenant(tenant_id)
        _require_billing(uow)
        if await uow.tenants.get(tenant_id) is None:
            raise TenantNotFound(tenant_id)
        current = await uow.subscriptions.get(tenant_id, lock=RowLock.UPDATE)
        customer = customer_id or (None if current is None else current.customer_id)
        wanted = subscription_id or (None if current is None else current.subscription_id)
        # The customer's newest subscription is Stripe's latest word: a late event about one
        # it replaced (canceled, then subscribed again) must not bring the old one back.
        found: ProviderSubscription | None = None
        if customer is not None:
            found = await gateway.customer_subscription(customer)
        if found is None and wanted is not None:
            found = await gateway.subscription(wanted)
        now = await uow.now()
        if found is None:
            return current
        status = _status(found.status)
        previous = None if current is None else current.status
        # The status's start is kept while it holds (a row from before status_since: its last
        # update), so a past_due grace never starts over with a sync that changed other fields.
        since = (
            (current.status_since or current.updated_at)
            if current is not None and previous is status
            else now
        )
        mirror = Subscription(
            tenant_id=tenant_id,
            customer_id=found.customer_id,
            subscription_id=found.subscription_id,
            status=status,
            price_id=found.price_id,
            current_period_end=found.current_period_end,
            cancel_at_period_end=found.cancel_at_period_end,
            updated_at=now,
            status_since=since,
        )
        if (
            current is not None
            and attrs.evolve(current, updated_at=now, status_since=since) == mirror
        ):
            return current  # nothing changed: no write, no event
        await uow.subscriptions.save(mirror)
        if previous is not status:
            await uow.outbox.add(
                SubscriptionChanged(
                    tenant_id,
                    None if previous is None else previous.value,
                    status.value,
                    now,
                )
            )
        await uow.commit()
        return mirror


def _status(value: str) -> SubscriptionStatus:
    try:
        return SubscriptionStatus(value)
    except ValueError:
        raise InvalidInput("subscription status", f"unknown Stripe status {value!r}") from None
