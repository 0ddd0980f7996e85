"""Telephony in memory: calls."""

from nmc_adapters.memory.spec import MemoryContext
from nmc_adapters.memory.telephony.repositories import InMemoryCalls

__all__ = ["CONTEXT", "InMemoryCalls"]

CONTEXT = MemoryContext(
    tables=("calls",),
    repositories={"calls": lambda views, _: InMemoryCalls(views["calls"], views["tenants"])},
)
