"""Events of billing."""

from __future__ import annotations

from datetime import datetime

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = ["SubscriptionChanged", "SubscriptionSyncRequested"]


@attrs.frozen
class SubscriptionSyncRequested(DomainEvent):
    """Stripe told us something about this tenant's subscription: the worker re-reads it from
    Stripe (the latest state, whatever order events came in) and repairs the mirror."""

    subscription_id: str | None
    customer_id: str | None
    stripe_event_id: str


@attrs.frozen
class SubscriptionChanged(DomainEvent):
    """The mirror's status changed (`billing.subscription_changed.v1`)."""

    previous_status: str | None
    status: str | None
    occurred_at: datetime
