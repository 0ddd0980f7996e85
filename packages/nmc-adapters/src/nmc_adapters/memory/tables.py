"""Helpers the in-memory repositories share: keyset pages and unique checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar
from uuid import UUID

from nmc_domain.shared.errors import Conflict
from nmc_domain.shared.pages import PageKey

__all__ = ["Key", "check_unique", "page"]


class _Row(Protocol):
    @property
    def id(self) -> UUID: ...


T = TypeVar("T", bound=_Row)
Key = tuple[UUID, UUID]  # (tenant_id, id): the tables' primary keys


def page(
    rows: Iterable[T], sort: Callable[[T], PageKey], after: PageKey | None, limit: int
) -> list[T]:
    """Up to `limit` rows strictly after `after`, ordered by `sort` (the key ends with the id)."""
    ordered = sorted(rows, key=sort)
    if after is not None:
        ordered = [row for row in ordered if sort(row) > after]
    return ordered[: max(limit, 0)]


def check_unique(
    others: Iterable[T], checks: Sequence[tuple[str, Callable[[T], Any], str]], row: T
) -> None:
    """Conflict on the first unique column `row` shares with another row (in PostgreSQL's
    order: constraints are checked in the order the indexes were created)."""
    others = [other for other in others if other.id != row.id]
    for field, value, reason in checks:
        if any(value(other) == value(row) for other in others):
            raise Conflict(field, reason)
