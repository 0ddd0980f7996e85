"""Billing in memory: the subscription mirror, and a fake payment gateway."""

from nmc_adapters.memory.billing.gateway import CheckoutRequest, FakePaymentGateway
from nmc_adapters.memory.billing.repositories import InMemorySubscriptions
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "CheckoutRequest", "FakePaymentGateway", "InMemorySubscriptions"]

CONTEXT = MemoryContext(
    tables=("subscriptions",),
    repositories={
        "subscriptions": lambda views, _: InMemorySubscriptions(
            views["subscriptions"], views["tenants"]
        ),
    },
)
