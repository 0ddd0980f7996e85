"""Reading Stripe's objects: ids sent bare or expanded, a subscription in our words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nmc_domain.billing.ports import ProviderSubscription

__all__ = ["id_of", "provider_subscription"]


def id_of(value: Any) -> str | None:
    """An id, whether Stripe sent it bare (`"cus_…"`) or as an expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None


def provider_subscription(data: Mapping[str, Any]) -> ProviderSubscription:
    """A Stripe subscription object (as a plain mapping) in our words.

    API versions from 2025-03-31 ("basil") on moved current_period_end from the subscription
    onto its items: the subscription's own is read when present, else the first item's.
    """
    items = (data.get("items") or {}).get("data") or []
    first: Mapping[str, Any] = items[0] if items else {}
    period_end = data.get("current_period_end") or first.get("current_period_end")
    price = first.get("price") or data.get("plan")  # `plan` on very old API versions
    metadata = data.get("metadata") or {}
    return ProviderSubscription(
        subscription_id=str(data["id"]),
        customer_id=id_of(data.get("customer")) or "",
        status=str(data.get("status") or ""),
        price_id=id_of(price),
        current_period_end=(
            datetime.fromtimestamp(int(period_end), UTC) if period_end is not None else None
        ),
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        metadata={str(k): str(v) for k, v in metadata.items() if v is not None},
    )
