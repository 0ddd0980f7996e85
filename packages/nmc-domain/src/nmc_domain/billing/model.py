"""The subscription mirror: Stripe's view of a tenant's plan, and what it entitles the tenant to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = [
    "BillingTerms",
    "Entitlement",
    "Subscription",
    "SubscriptionStatus",
    "entitlement",
]


class SubscriptionStatus(StrEnum):
    """Stripe's subscription statuses, as Stripe defines them (seed §4.7)."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


@attrs.frozen
class BillingTerms:
    """How billing is enforced in this deployment.

    Without Stripe configured (self-hosting, `nmc dev`) nothing is enforced: every tenant is
    entitled. A past-due subscription keeps its tenant entitled for `grace` after it became
    past due (the renewal's payment failed), with a banner for the owner.
    """

    enforced: bool = False
    grace: timedelta = timedelta(days=7)


@attrs.frozen
class Subscription:
    """The mirror of one tenant's Stripe subscription (table `bill_subscriptions`).

    It is only ever written from a fresh read of Stripe (never from an event's own copy), under
    the row's lock: events arriving late or out of order cannot roll it back.
    """

    tenant_id: UUID
    customer_id: str
    subscription_id: str | None
    status: SubscriptionStatus | None
    price_id: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    updated_at: datetime
    # When the status last changed (the mirror's clock): a past_due grace counts from it.
    # (Not from the period end: Stripe moves the period on when the renewal invoice is made,
    # before the payment fails.)
    status_since: datetime | None = None


@attrs.frozen
class Entitlement:
    """Whether the tenant may text (text-backs, assistant replies) and what the owner sees."""

    entitled: bool
    banner: str | None = None


def entitlement(
    subscription: Subscription | None, terms: BillingTerms, now: datetime
) -> Entitlement:
    """Active and trialing are entitled; past_due during the grace (with a banner); nothing
    else. Everything is entitled when billing is not enforced."""
    if not terms.enforced:
        return Entitlement(True)
    status = None if subscription is None else subscription.status
    if status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        assert subscription is not None
        if subscription.cancel_at_period_end and subscription.current_period_end is not None:
            ends = subscription.current_period_end.astimezone(UTC).strftime("%b %-d")
            return Entitlement(True, f"Your plan ends on {ends}: renew it to keep texting back")
        return Entitlement(True)
    if status is SubscriptionStatus.PAST_DUE:
        assert subscription is not None
        started = subscription.status_since or subscription.updated_at
        until = (started + terms.grace).astimezone(UTC)  # dates in UTC, whatever the session
        if now < until:
            return Entitlement(
                True, f"Payment failed: update your card by {until.strftime('%b %-d')}"
            )
        return Entitlement(False, "Payment failed: texting is paused until you update your card")
    if status is None:
        return Entitlement(False, "No plan yet: subscribe to start texting back")
    return Entitlement(False, "Your plan is not active: subscribe again to resume texting")
