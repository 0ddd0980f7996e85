"""The in-memory contexts' registrations, gathered: the store's tables and the unit of work's
repositories. A new repository is one entry in its context's CONTEXT; a new context, one line."""

from __future__ import annotations

from nmc_adapters.memory import (
    billing,
    catalog,
    compliance,
    conversation,
    identity,
    messaging,
    reporting,
    scheduling,
    shared,
    telephony,
    tenancy,
)
from nmc_adapters.memory.spec import RepositoryFactory

__all__ = ["CONTEXTS", "TABLES", "repositories"]

CONTEXTS = tuple(
    context.CONTEXT
    for context in (
        shared,
        identity,
        tenancy,
        catalog,
        compliance,
        messaging,
        scheduling,
        billing,
        conversation,
        telephony,
        reporting,
    )
)
TABLES = tuple(table for context in CONTEXTS for table in context.tables)


def repositories() -> dict[str, RepositoryFactory]:
    """Every context's repositories by unit-of-work attribute (a name used twice is an error)."""
    found: dict[str, RepositoryFactory] = {}
    for context in CONTEXTS:
        for name, factory in context.repositories.items():
            if name in found:
                raise RuntimeError(f"two contexts register the repository {name!r}")
            found[name] = factory
    return found
