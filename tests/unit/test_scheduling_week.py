"""The schedule page's clock rules: a local day's bounds (23 or 25 hours when clocks change)
and a wall-clock time read in the tenant's zone (a skipped time refused, a repeated one its
first occurrence)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from nmc_domain.scheduling.week import day_bounds, wall_clock
from nmc_domain.shared.errors import InvalidInput

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 3, 2), 24), (date(2026, 3, 8), 23), (date(2026, 11, 1), 25)],
)
def test_a_local_day_lasts_as_long_as_its_clocks_say(day: date, hours: int) -> None:
    first, last = day_bounds(day, CHICAGO)
    assert first == datetime(day.year, day.month, day.day, tzinfo=CHICAGO)
    assert last - first == timedelta(hours=hours)
    assert last.astimezone(CHICAGO).date() == day + timedelta(days=1)


def test_a_wall_clock_time_is_read_in_the_zone() -> None:
    assert wall_clock(date(2026, 3, 2), time(9, 30), CHICAGO) == datetime(
        2026, 3, 2, 15, 30, tzinfo=UTC
    )
    # 1:30 happens twice on Nov 1 2026: the first time (still CDT, UTC-5).
    assert wall_clock(date(2026, 11, 1), time(1, 30), CHICAGO) == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


def test_a_time_the_clocks_skip_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        wall_clock(date(2026, 3, 8), time(2, 30), CHICAGO)
    assert refused.value.field == "start"
    assert "does not exist on 2026-03-08" in refused.value.reason
