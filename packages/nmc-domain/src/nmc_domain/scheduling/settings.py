"""A tenant's scheduling settings: the grid, buffers, notice, horizon and hold time limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput

__all__ = ["SETTING_RANGES", "SchedulingSettings", "change_settings"]

# field -> (lowest, highest) accepted value.
SETTING_RANGES: dict[str, tuple[int, int]] = {
    "slot_granularity_minutes": (5, 240),
    "buffer_minutes": (0, 240),
    "min_notice_minutes": (0, 10_080),
    "horizon_days": (1, 365),
    "hold_ttl_minutes": (1, 60),
    "daily_limit_per_technician": (1, 100),
}


def _checker(field: str) -> Callable[[object], int]:
    low, high = SETTING_RANGES[field]

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(field, "must be an integer")
        if not low <= value <= high:
            raise InvalidInput(field, f"must be between {low} and {high}")
        return value

    return check


def _optional(check: Callable[[object], int]) -> Callable[[object], int | None]:
    def optional(value: object) -> int | None:
        return None if value is None else check(value)

    return optional


_CHECKS: dict[str, Callable[[object], Any]] = {
    field: _checker(field) for field in SETTING_RANGES if field != "daily_limit_per_technician"
}
_CHECKS["daily_limit_per_technician"] = _optional(_checker("daily_limit_per_technician"))


@attrs.frozen
class SchedulingSettings:
    """Defaults: a 30-minute grid, no buffer, an hour's notice, two weeks ahead, 15-minute holds."""

    tenant_id: UUID
    slot_granularity_minutes: int = 30
    buffer_minutes: int = 0
    min_notice_minutes: int = 60
    horizon_days: int = 14
    hold_ttl_minutes: int = 15
    # None: no limit on how many jobs one technician takes in a day.
    daily_limit_per_technician: int | None = None


def change_settings(settings: SchedulingSettings, **changes: object) -> SchedulingSettings:
    """PATCH: only the given fields change, each checked; InvalidInput names the first at fault."""
    checked: dict[str, Any] = {}
    for field, value in changes.items():
        check = _CHECKS.get(field)
        if check is None:
            raise InvalidInput(field, "is not a scheduling setting")
        checked[field] = check(value)
    return attrs.evolve(settings, **checked)
