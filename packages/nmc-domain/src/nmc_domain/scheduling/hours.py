"""Open or closed right now, and when the business opens next (for the after-hours text)."""

from __future__ import annotations

from collections.abc import Set
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nmc_domain.scheduling.availability import period_bounds
from nmc_domain.scheduling.model import WeeklyHours

__all__ = ["is_open", "next_opening"]

_LOOKAHEAD_DAYS = 14


def is_open(hours: WeeklyHours, closures: Set[date], zone: ZoneInfo, now: datetime) -> bool:
    day = now.astimezone(zone).date()
    if day in closures:
        return False
    for period in hours.on(day.weekday()):
        opens, closes = period_bounds(day, period, zone)
        if opens <= now < closes:
            return True
    return False


def next_opening(
    hours: WeeklyHours, closures: Set[date], zone: ZoneInfo, now: datetime
) -> datetime | None:
    """The next time a period opens after `now` (within two weeks), or None (no hours set)."""
    today = now.astimezone(zone).date()
    for offset in range(_LOOKAHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        if day in closures:
            continue
        for period in hours.on(day.weekday()):
            opens, _ = period_bounds(day, period, zone)
            if opens > now:
                return opens
    return None
