"""Tenancy in memory: tenants and the number routing table."""

from nmc_adapters.memory.spec import MemoryContext
from nmc_adapters.memory.tenancy.repositories import InMemoryPhoneNumbers, InMemoryTenants

__all__ = ["CONTEXT", "InMemoryPhoneNumbers", "InMemoryTenants"]

CONTEXT = MemoryContext(
    tables=("tenants", "numbers"),
    repositories={
        "tenants": lambda views, _: InMemoryTenants(views["tenants"], views["numbers"]),
        "numbers": lambda views, _: InMemoryPhoneNumbers(views["numbers"], views["tenants"]),
    },
)
