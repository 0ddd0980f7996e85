"""Availability: business hours, less closures, busy blocks, live holds and appointments (with
their buffers), the minimum notice and what lies beyond the horizon; for one job's duration,
correct across daylight-saving changes.

Pure: everything comes in as a `Calendar` snapshot (read in one transaction), time included.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.scheduling.booking import Booking
from nmc_domain.scheduling.errors import NotBookable
from nmc_domain.scheduling.model import BusyBlock, Period, Technician, WeeklyHours
from nmc_domain.scheduling.settings import SchedulingSettings

__all__ = ["Calendar", "Slot", "Taken", "check_bookable", "find_slots", "is_free", "local_day"]

_MINUTE = timedelta(minutes=1)


@attrs.frozen
class Slot:
    """A time a technician can start the job; `end` is when the job (without buffer) ends."""

    technician_id: UUID
    start: datetime
    end: datetime


@attrs.frozen
class Taken:
    """A stretch of one technician's time that live holds and appointments take (with their
    buffers); a store may merge back-to-back ones."""

    technician_id: UUID
    start: datetime
    end: datetime


@attrs.frozen
class Calendar:
    """What availability is computed from: one tenant's schedule as of `now`.

    `busy`, `bookings` and `taken` need only cover the window being searched (with a day's
    margin). The live bookings come either one by one in `bookings` (the daily limit counts
    them, a move leaves its own out) or as the time they take in `taken`, which is cheaper to
    read when the calendar is full.
    """

    timezone: str
    settings: SchedulingSettings
    hours: WeeklyHours
    technicians: tuple[Technician, ...]
    closures: frozenset[date]
    busy: tuple[BusyBlock, ...]
    bookings: tuple[Booking, ...]
    now: datetime
    taken: tuple[Taken, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def hours_of(self, technician: Technician) -> WeeklyHours:
        return technician.hours if technician.hours is not None else self.hours

    @property
    def earliest(self) -> datetime:
        return self.now + timedelta(minutes=self.settings.min_notice_minutes)

    @property
    def latest(self) -> datetime:
        return self.now + timedelta(days=self.settings.horizon_days)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _wall(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant of a wall-clock time on `day`; None when that time does not exist (the
    hour skipped when clocks spring forward). A repeated hour gives its first occurrence."""
    day = day + timedelta(days=minute // 1440)
    minute %= 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return instant


def _at_or_after(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The first instant the clocks read this wall-clock time or later: the time itself (its
    first occurrence when repeated), or the instant the clocks jump when it is skipped."""
    instant = _wall(day, minute, zone)
    if instant is not None:
        return instant
    # Read with the offset before the jump, a skipped time lands as far past the jump as it
    # lies past the start of the gap: step back to the jump (offsets are whole minutes).
    day = day + timedelta(days=minute // 1440)
    minute %= 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    instant = local.astimezone(UTC)
    after = instant.astimezone(zone).utcoffset()
    while (instant - _MINUTE).astimezone(zone).utcoffset() == after:
        instant -= _MINUTE
    return instant


def period_bounds(day: date, period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    # Period bounds that fall in a skipped hour are read as the instant just after the gap.
    return _at_or_after(day, period.start, zone), _at_or_after(day, period.end, zone)


class _Blocked:
    """One technician's taken intervals, sorted by start, for fast overlap checks."""

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]) -> None:
        self._intervals = sorted(intervals)
        self._starts = [start for start, _ in self._intervals]
        # The longest interval bounds how far back an overlapping one may start.
        self._longest = max((end - start for start, end in self._intervals), default=timedelta(0))

    def free_from(self, start: datetime, length: timedelta) -> datetime:
        """The earliest instant at or after `start` from which `length` is free of them all."""
        intervals, at = self._intervals, start
        index = bisect.bisect_left(self._starts, start - self._longest)
        # Sorted by start: once one starts at or after the end of the time asked for, so do
        # the rest. An overlapping one pushes the time asked for past its end.
        while index < len(intervals):
            other_start, other_end = intervals[index]
            if other_start >= at + length:
                break
            if other_end > at:
                at = other_end
            index += 1
        return at

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.free_from(start, end - start) != start


@attrs.frozen
class _Claims:
    """One technician's busy blocks and live bookings (all but `ignore`)."""

    busy: list[tuple[datetime, datetime]]
    booked: list[Booking]


def _claims_by_technician(calendar: Calendar, ignore: UUID | None = None) -> dict[UUID, _Claims]:
    """Everyone's claims, grouped in one pass (a calendar holds hundreds of bookings)."""
    found: dict[UUID, _Claims] = {}

    def of(technician_id: UUID) -> _Claims:
        claims = found.get(technician_id)
        if claims is None:
            claims = found[technician_id] = _Claims([], [])
        return claims

    for block in calendar.busy:
        of(block.technician_id).busy.append((block.start, block.end))
    for taken in calendar.taken:
        of(taken.technician_id).busy.append((taken.start, taken.end))
    now = calendar.now
    for booking in calendar.bookings:
        if booking.id != ignore and booking.live(now):
            of(booking.technician_id).booked.append(booking)
    return found


def _blocked(claims: _Claims | None) -> _Blocked:
    if claims is None:
        return _Blocked(())
    return _Blocked([*claims.busy, *((b.start, b.blocked_until) for b in claims.booked)])


def _jobs_per_day(claims: _Claims | None, zone: ZoneInfo) -> dict[date, int]:
    counts: dict[date, int] = {}
    for booking in () if claims is None else claims.booked:
        day = local_day(booking.start, zone)
        counts[day] = counts.get(day, 0) + 1
    return counts


def check_bookable(
    calendar: Calendar, technician: Technician, start: datetime, duration: timedelta
) -> None:
    """NotBookable (422) with the reason when `start` can never be booked as asked.

    Whether the time is free is a separate question (`is_free`, and the database's guarantee).
    """
    zone = calendar.zone
    if start.tzinfo is None:
        raise NotBookable("needs a UTC offset")
    if start < calendar.now:
        raise NotBookable("is in the past")
    if start < calendar.earliest:
        notice = calendar.settings.min_notice_minutes
        raise NotBookable(f"is inside the minimum notice of {notice} minutes")
    if start > calendar.latest:
        raise NotBookable(f"is beyond the booking horizon of {calendar.settings.horizon_days} days")
    day = local_day(start, zone)
    if day in calendar.closures:
        raise NotBookable(f"the business is closed on {day.isoformat()}")
    end = start + duration
    for period in calendar.hours_of(technician).on(day.weekday()):
        opens, closes = period_bounds(day, period, zone)
        if opens <= start and end <= closes:
            return
    raise NotBookable("is outside business hours (the whole job must fit in one period)")


def is_free(
    calendar: Calendar,
    technician: Technician,
    start: datetime,
    blocked_until: datetime,
    *,
    ignore: UUID | None = None,
) -> bool:
    """No busy block, live hold or appointment (with its buffer) overlaps, and the daily limit
    has room. `ignore` leaves one booking out (the appointment being moved)."""
    claims = _claims_by_technician(calendar, ignore).get(technician.id)
    if _blocked(claims).overlaps(start, blocked_until):
        return False
    limit = calendar.settings.daily_limit_per_technician
    if limit is None:
        return True
    zone = calendar.zone
    return _jobs_per_day(claims, zone).get(local_day(start, zone), 0) < limit


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


class _Clock:
    """Wall-clock instants of one zone, each worked out once per search (technicians share
    most of their hours, and a zone conversion is the costly part of a candidate)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._instants: dict[tuple[date, int], datetime | None] = {}
        self._bounds: dict[tuple[date, int, int], tuple[datetime, datetime]] = {}

    def at(self, day: date, minute: int) -> datetime | None:
        key = (day, minute)
        if key not in self._instants:
            self._instants[key] = _wall(day, minute, self.zone)
        return self._instants[key]

    def grid_minute(self, day: date, instant: datetime, origin: int, step: int) -> int:
        """The first minute of `day`'s grid (`origin` + k * `step`) at which the clocks read
        `instant`'s wall time or later (past 1440 when that is another day)."""
        local = instant.astimezone(self.zone)
        minute = (local.date() - day).days * 1440 + local.hour * 60 + local.minute
        if local.second or local.microsecond:
            minute += 1
        return origin + max(0, -(-(minute - origin) // step)) * step

    def bounds(self, day: date, period: Period) -> tuple[datetime, datetime]:
        key = (day, period.start, period.end)
        if key not in self._bounds:
            self._bounds[key] = period_bounds(day, period, self.zone)
        return self._bounds[key]


def _technician_slots(
    calendar: Calendar,
    technician: Technician,
    day: date,
    duration: timedelta,
    window: tuple[datetime, datetime],
    blocked: _Blocked,
    jobs: dict[date, int],
    clock: _Clock,
) -> Iterator[Slot]:
    settings = calendar.settings
    limit = settings.daily_limit_per_technician
    if limit is not None and jobs.get(day, 0) >= limit:
        return
    buffer = timedelta(minutes=settings.buffer_minutes)
    step = settings.slot_granularity_minutes
    low, high = window
    for period in calendar.hours_of(technician).on(day.weekday()):
        _, closes = clock.bounds(day, period)
        # Before `free` the technician is taken: starts up to there need no look at the claims.
        free, minute = low, period.start
        while minute < period.end:
            start = clock.at(day, minute)
            if start is None or start < free:
                minute += step
                continue
            end = start + duration
            if start > high or end > closes:
                break
            free = blocked.free_from(start, duration + buffer)
            if free == start:
                yield Slot(technician.id, start, end)
            # On to the first start of the grid the clocks show at `free` or later (in a
            # repeated hour that may be a little early; the test above skips it).
            minute = max(minute + step, clock.grid_minute(day, free, period.start, step))


def find_slots(
    calendar: Calendar,
    *,
    item_id: UUID,
    duration: timedelta,
    window_start: datetime,
    window_end: datetime,
    limit: int,
    technician_id: UUID | None = None,
    spread_day: bool = False,
    prefer: Callable[[Technician], str] | None = None,
    alternatives: bool = False,
) -> list[Slot]:
    """The `limit` earliest free starts in the window, each start once (on the first technician
    who has it, by id or by `prefer`); with `spread_day`, at most one per local day. With
    `alternatives`, each start comes on every technician who has it, in that order."""
    zone = calendar.zone
    low = max(window_start, calendar.earliest)
    high = min(window_end, calendar.latest)
    if low > high or limit <= 0:
        return []
    technicians = sorted(
        (
            technician
            for technician in calendar.technicians
            if technician.can_do(item_id)
            and (technician_id is None or technician.id == technician_id)
        ),
        key=prefer or (lambda technician: str(technician.id)),
    )
    claims = _claims_by_technician(calendar)
    counted = calendar.settings.daily_limit_per_technician  # jobs a day matter only with a limit
    prepared = [
        (
            technician,
            _blocked(claims.get(technician.id)),
            {} if counted is None else _jobs_per_day(claims.get(technician.id), zone),
        )
        for technician in technicians
    ]
    found: list[Slot] = []
    starts = 0
    clock = _Clock(zone)
    for day in _days(local_day(low, zone), local_day(high, zone)):
        if day in calendar.closures:
            continue
        by_start: dict[datetime, list[Slot]] = {}
        for technician, blocked, jobs in prepared:
            for slot in _technician_slots(
                calendar, technician, day, duration, (low, high), blocked, jobs, clock
            ):
                by_start.setdefault(slot.start, []).append(slot)
        ordered = sorted(by_start)[: 1 if spread_day else limit - starts]
        for start in ordered:
            found.extend(by_start[start] if alternatives else by_start[start][:1])
        starts += len(ordered)
        if starts >= limit:
            break
    return found
