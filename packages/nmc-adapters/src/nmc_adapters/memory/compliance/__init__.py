"""Compliance in memory."""

from nmc_adapters.memory.compliance.repositories import (
    InMemoryCompliance,
    InMemoryContacts,
    InMemoryOptOuts,
)
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryCompliance", "InMemoryContacts", "InMemoryOptOuts"]

CONTEXT = MemoryContext(
    tables=("compliance", "contacts", "opt_outs"),
    repositories={
        "compliance": lambda views, _: InMemoryCompliance(views["compliance"], views["tenants"]),
        "contacts": lambda views, _: InMemoryContacts(views["contacts"], views["tenants"]),
        "opt_outs": lambda views, _: InMemoryOptOuts(views["opt_outs"], views["tenants"]),
    },
)
