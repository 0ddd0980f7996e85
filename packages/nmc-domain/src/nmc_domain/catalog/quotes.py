"""Quotes: the price and duration of a catalog item, frozen at the moment it was asked for."""

from __future__ import annotations

from uuid import UUID

import attrs

from nmc_domain.catalog.model import ServiceItem
from nmc_domain.shared.errors import Gone, NotFound

__all__ = ["Quote", "quote_for"]


@attrs.frozen
class Quote:
    """A snapshot, not a reference: a booking records this price even if the catalog moves on."""

    item_id: UUID
    price_cents: int
    currency: str
    duration_minutes: int


def quote_for(item: ServiceItem | None, item_id: UUID) -> Quote:
    """Quote the item found under `item_id`; NotFound if there is none, Gone if it is inactive."""
    if item is None:
        raise NotFound("catalog item", item_id)
    if not item.active:
        raise Gone("catalog item", item_id)
    return Quote(
        item_id=item.id,
        price_cents=item.price_cents,
        currency=item.currency,
        duration_minutes=item.duration_minutes,
    )
