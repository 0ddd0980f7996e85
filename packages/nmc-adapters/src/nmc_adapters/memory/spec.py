"""How an in-memory context registers its tables and repositories (see `contexts`)."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from nmc_adapters.memory.shared.records import OutboxRow
    from nmc_adapters.memory.store import InMemoryStore

__all__ = ["MemoryContext", "RepositoryFactory", "Session", "Views", "require_tenant"]

# Each repository reads and writes its tables through ChainMap(staged, committed): writes land
# in the unit of work's staging dict only, and reads see them first.
Views = Mapping[str, ChainMap[Any, Any]]


class Session(Protocol):
    """What a repository may ask of the unit of work it belongs to."""

    store: InMemoryStore

    def clock(self) -> datetime:
        """The unit of work's fixed now (like the database's now() in a transaction)."""
        ...

    def stage_outbox(self, row: OutboxRow) -> None:
        """Keep an outbox row until commit."""
        ...


RepositoryFactory = Callable[[Views, Session], object]


@attrs.frozen
class MemoryContext:
    """A context's tables (names of the store's dicts) and its unit-of-work repositories."""

    tables: tuple[str, ...]
    repositories: Mapping[str, RepositoryFactory]


def require_tenant(tenants: Mapping[Any, Any], tenant_id: Any) -> None:
    """The foreign key of every tenant-owned table (PostgreSQL raises an IntegrityError)."""
    if tenant_id not in tenants:
        raise ValueError(f"no tenant {tenant_id} (foreign key violation)")
