"""Compliance in memory."""

from nmc_adapters.memory.compliance.repositories import (
    InMemoryCompliance,
    InMemoryContacts,
    InMemoryOptOuts,
    InMemoryRegistrations,
)
from nmc_adapters.memory.spec import MemoryContext

__all__ = [
    "CONTEXT",
    "InMemoryCompliance",
    "InMemoryContacts",
    "InMemoryOptOuts",
    "InMemoryRegistrations",
]

CONTEXT = MemoryContext(
    tables=("compliance", "compliance_registrations", "contacts", "opt_outs"),
    repositories={
        "compliance": lambda views, _: InMemoryCompliance(views["compliance"], views["tenants"]),
        "registrations": lambda views, _: InMemoryRegistrations(
            views["compliance_registrations"], views["tenants"]
        ),
        "contacts": lambda views, _: InMemoryContacts(views["contacts"], views["tenants"]),
        "opt_outs": lambda views, _: InMemoryOptOuts(views["opt_outs"], views["tenants"]),
    },
)
