"""Ports of billing: the subscription mirror and the payment provider."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol
from uuid import UUID

import attrs

from nmc_domain.billing.model import BillingTerms, Subscription
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.ports import TenancyUnitOfWork

__all__ = [
    "BillingUnitOfWork",
    "PaymentGateway",
    "ProviderSubscription",
    "SubscriptionRepository",
]


class SubscriptionRepository(Protocol):
    """The mirror: one row per tenant (`bill_subscriptions`)."""

    async def get(
        self, tenant_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> Subscription | None: ...

    async def by_customer(self, customer_id: str) -> Subscription | None:
        """The mirror row of a Stripe customer, whichever tenant it is (webhooks know only
        Stripe's ids)."""
        ...

    async def save(self, subscription: Subscription) -> None:
        """Insert or replace the tenant's row."""
        ...


class BillingUnitOfWork(TenancyUnitOfWork, Protocol):
    """A unit of work that knows the subscriptions and how billing is enforced here."""

    subscriptions: SubscriptionRepository
    billing_terms: BillingTerms


@attrs.frozen
class ProviderSubscription:
    """A subscription as the provider has it right now."""

    subscription_id: str
    customer_id: str
    status: str
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    metadata: Mapping[str, str] = attrs.field(factory=dict)


class PaymentGateway(Protocol):
    """Stripe, behind our words. Calls raise `PaymentProviderError` when Stripe fails."""

    async def checkout_url(
        self,
        *,
        tenant_id: UUID,
        customer_id: str | None,
        email: str | None,
        idempotency_key: str,
        success_url: str,
        cancel_url: str,
    ) -> str:
        """A subscription Checkout Session for the plan: its URL."""
        ...

    async def portal_url(self, *, customer_id: str, return_url: str) -> str:
        """A Customer Portal session for the customer: its URL."""
        ...

    async def subscription(self, subscription_id: str) -> ProviderSubscription | None:
        """The subscription as Stripe has it now; None when Stripe does not know it."""
        ...

    async def customer_subscription(self, customer_id: str) -> ProviderSubscription | None:
        """The customer's most recent subscription (any status); None when it has none."""
        ...
