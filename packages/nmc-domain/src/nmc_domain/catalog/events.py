"""Events of the catalog."""

from __future__ import annotations

from uuid import UUID

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = ["CatalogUpdated"]


@attrs.frozen
class CatalogUpdated(DomainEvent):
    """A catalog item was created or changed (`change` is "created" or "updated")."""

    item_id: UUID
    change: str
