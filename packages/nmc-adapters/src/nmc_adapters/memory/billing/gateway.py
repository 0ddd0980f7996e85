"""A PaymentGateway in memory: Stripe's side as a dict, for unit tests of billing's use cases."""

from __future__ import annotations

from collections import deque
from uuid import UUID

import attrs

from nmc_domain.billing.errors import PaymentProviderError
from nmc_domain.billing.ports import ProviderSubscription

__all__ = ["CheckoutRequest", "FakePaymentGateway"]


@attrs.frozen
class CheckoutRequest:
    """What a checkout asked for (the fake keeps one per idempotency key, like Stripe)."""

    tenant_id: UUID
    customer_id: str | None
    email: str | None
    idempotency_key: str
    success_url: str
    cancel_url: str


class FakePaymentGateway:
    """Subscriptions set by the test; checkouts and portal sessions recorded; failures scripted
    with `fail_next` (each raises PaymentProviderError once)."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, ProviderSubscription] = {}
        self.checkouts: dict[str, CheckoutRequest] = {}
        self.portals: list[tuple[str, str]] = []
        self.reads: list[str] = []
        self._failures: deque[str] = deque()

    def fail_next(self, times: int = 1, reason: str = "Stripe answered HTTP 500") -> None:
        self._failures.extend([reason] * times)

    def _maybe_fail(self) -> None:
        if self._failures:
            raise PaymentProviderError(self._failures.popleft())

    def set_subscription(self, subscription: ProviderSubscription) -> None:
        self.subscriptions[subscription.subscription_id] = subscription

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
        self._maybe_fail()
        request = CheckoutRequest(
            tenant_id, customer_id, email, idempotency_key, success_url, cancel_url
        )
        self.checkouts.setdefault(idempotency_key, request)
        number = list(self.checkouts).index(idempotency_key) + 1
        return f"https://checkout.stripe.test/c/pay/cs_test_{number}"

    async def portal_url(self, *, customer_id: str, return_url: str) -> str:
        self._maybe_fail()
        self.portals.append((customer_id, return_url))
        return f"https://billing.stripe.test/p/session/{len(self.portals)}"

    async def subscription(self, subscription_id: str) -> ProviderSubscription | None:
        self._maybe_fail()
        self.reads.append(subscription_id)
        return self.subscriptions.get(subscription_id)

    async def customer_subscription(self, customer_id: str) -> ProviderSubscription | None:
        self._maybe_fail()
        self.reads.append(customer_id)
        theirs = [s for s in self.subscriptions.values() if s.customer_id == customer_id]
        return theirs[-1] if theirs else None
