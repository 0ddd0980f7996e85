"""The contexts' registrations, gathered: what a PostgreSQL unit of work is assembled from.

Each context package declares `REPOSITORIES` (unit-of-work attribute -> class built on the
transaction) beside its tables. A new repository is one entry there; a new context, one line
below.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from nmc_adapters.postgres import (
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

__all__ = ["CONTEXTS", "repositories"]

CONTEXTS = (
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


def repositories() -> Mapping[str, Callable[[Any], object]]:
    """Every context's repositories by unit-of-work attribute (a name used twice is an error)."""
    found: dict[str, Callable[[Any], object]] = {}
    for context in CONTEXTS:
        for name, factory in context.REPOSITORIES.items():
            if name in found:
                raise RuntimeError(f"two contexts register the repository {name!r}")
            found[name] = factory
    return found
