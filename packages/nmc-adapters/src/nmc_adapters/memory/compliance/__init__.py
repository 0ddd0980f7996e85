"""Compliance in memory."""

from nmc_adapters.memory.compliance.repositories import InMemoryCompliance
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryCompliance"]

CONTEXT = MemoryContext(
    tables=("compliance",),
    repositories={
        "compliance": lambda views, _: InMemoryCompliance(views["compliance"], views["tenants"]),
    },
)
