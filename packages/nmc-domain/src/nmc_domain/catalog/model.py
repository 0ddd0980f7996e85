"""The service catalog: what a business offers, at what price, for how long."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

import attrs

from nmc_domain.catalog.currency import check_currency
from nmc_domain.shared.errors import InvalidInput

__all__ = [
    "DURATION_MINUTES",
    "MAX_ALIASES",
    "MAX_PHRASE",
    "PRICE_CENTS",
    "PRIORITY",
    "ServiceItem",
    "change_service_item",
    "name_key",
    "new_service_item",
]

# Public so the API can document the same bounds it enforces.
MAX_ALIASES = 50
MAX_PHRASE = 100
PRICE_CENTS = (0, 10_000_000)
DURATION_MINUTES = (5, 1440)
PRIORITY = (-1_000_000, 1_000_000)


@attrs.frozen
class ServiceItem:
    """A job the business quotes: its name, the other words callers use for it, price, duration."""

    id: UUID
    tenant_id: UUID
    name: str
    aliases: tuple[str, ...]
    price_cents: int
    currency: str
    duration_minutes: int
    # Breaks ties between equally long matches: the item the owner would rather sell comes first.
    priority: int = 0
    active: bool = True


def name_key(name: str) -> str:
    """The form two names must not share within a tenant (caseless, whitespace collapsed)."""
    # NFKC first, so a decomposed "Cafe\u0301" or a full-width "\uff21" is the same name as its
    # plain spelling.
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def _check_name(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("name", "must be a string")
    name = value.strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    if len(name) > MAX_PHRASE:
        raise InvalidInput("name", f"longer than {MAX_PHRASE} characters")
    return name


def _check_aliases(value: object) -> tuple[str, ...]:
    # A bare string is iterable too: "pipe" would silently become ("p", "i", "e").
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput("aliases", "must be a list of strings")
    aliases: dict[str, None] = {}  # a dict keeps the first occurrence's order
    for position, alias in enumerate(value):
        if not isinstance(alias, str):
            raise InvalidInput("aliases", f"alias {position} is not a string")
        cleaned = " ".join(alias.lower().split())
        if len(cleaned) > MAX_PHRASE:
            raise InvalidInput(
                "aliases", f"alias {position} is longer than {MAX_PHRASE} characters"
            )
        if cleaned:
            aliases[cleaned] = None
    if len(aliases) > MAX_ALIASES:
        raise InvalidInput("aliases", f"more than {MAX_ALIASES} aliases")
    return tuple(aliases)


def _integer_checker(field: str, bounds: tuple[int, int]) -> Callable[[object], int]:
    low, high = bounds

    def check(value: object) -> int:
        # bool is an int subclass, but `"price_cents": true` is a client bug, not a price of 1.
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(field, "must be an integer")
        if not low <= value <= high:
            raise InvalidInput(field, f"must be between {low} and {high}")
        return value

    return check


def _check_currency(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidInput("currency", "must be a string")
    return check_currency(value)


def _check_active(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("active", "must be true or false")
    return value


_check_price_cents = _integer_checker("price_cents", PRICE_CENTS)
_check_duration_minutes = _integer_checker("duration_minutes", DURATION_MINUTES)
_check_priority = _integer_checker("priority", PRIORITY)

# The fields a PATCH may change, each with the check a new item passes too.
_CHECKS: dict[str, Callable[[object], object]] = {
    "name": _check_name,
    "aliases": _check_aliases,
    "price_cents": _check_price_cents,
    "currency": _check_currency,
    "duration_minutes": _check_duration_minutes,
    "priority": _check_priority,
    "active": _check_active,
}


def _validated(fields: dict[str, object]) -> dict[str, Any]:
    # Any, because the type of each value is established by its field's check, not statically.
    checked: dict[str, Any] = {}
    for field, value in fields.items():
        check = _CHECKS.get(field)
        if check is None:
            raise InvalidInput(field, "is not a field of a catalog item that can be changed")
        checked[field] = check(value)
    return checked


def new_service_item(
    *,
    tenant_id: UUID,
    name: str,
    price_cents: int,
    duration_minutes: int,
    aliases: Iterable[str] = (),
    currency: str = "USD",
    priority: int = 0,
    active: bool = True,
    item_id: UUID | None = None,
) -> ServiceItem:
    """Validate a new catalog item; InvalidInput names the first field at fault."""
    return ServiceItem(
        id=uuid.uuid4() if item_id is None else item_id,
        tenant_id=tenant_id,
        name=_check_name(name),
        aliases=_check_aliases(aliases),
        price_cents=_check_price_cents(price_cents),
        currency=_check_currency(currency),
        duration_minutes=_check_duration_minutes(duration_minutes),
        priority=_check_priority(priority),
        active=_check_active(active),
    )


def change_service_item(item: ServiceItem, **changes: object) -> ServiceItem:
    """PATCH: the item with only the given fields changed, each checked as for a new item."""
    return attrs.evolve(item, **_validated(changes))
