"""Billing in memory: the subscription mirror."""

from nmc_adapters.memory.billing.repositories import InMemorySubscriptions
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemorySubscriptions"]

CONTEXT = MemoryContext(
    tables=("subscriptions",),
    repositories={
        "subscriptions": lambda views, _: InMemorySubscriptions(
            views["subscriptions"], views["tenants"]
        ),
    },
)
