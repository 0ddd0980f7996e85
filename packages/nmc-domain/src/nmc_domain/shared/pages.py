"""Keyset pagination: a page of rows and the key to start the next one after."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Generic, TypeVar
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Page", "PageKey", "check_limit", "page_of"]

T = TypeVar("T")
# (sort key, id): ids break ties, so the order is total and no row is skipped or repeated.
PageKey = tuple[str, UUID]
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@attrs.frozen
class Page(Generic[T]):
    """Rows in order; `next_after` is None on the last page."""

    items: tuple[T, ...]
    next_after: PageKey | None


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def page_of(rows: Sequence[T], limit: int, key: Callable[[T], PageKey]) -> Page[T]:
    """The page from `limit + 1` fetched rows: the extra row only says there is more."""
    items = tuple(rows[:limit])
    more = len(rows) > limit and bool(items)
    return Page(items, key(items[-1]) if more else None)
