"""The schedule page's week, laid out for reading: a day per Monday..Sunday (tenant's zone)
with its appointments, holds and busy blocks in time order, each with its time as people
read it ("9:00 AM - 10:30 AM", with an en dash) and, for busy blocks, where they came from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.conversation.texts import money
from nmc_domain.scheduling.booking import Booking, BookingStatus
from nmc_domain.scheduling.model import BusyBlock, WeeklyHours
from nmc_domain.scheduling.week import Week, day_bounds

__all__ = ["DASH", "SOURCES", "Day", "Entry", "WeekView", "clock", "days_of", "week_url"]

DASH = "\u2013"  # the en dash between two times
# Where a busy block came from, as the owner knows it.
SOURCES = {"manual": "Added by hand", "google": "From Google Calendar", "jobber": "From Jobber"}


def clock(at: datetime) -> str:
    """ "9:05 AM" (the moment in the zone it carries)."""
    return f"{at.hour % 12 or 12}:{at:%M} {'AM' if at.hour < 12 else 'PM'}"


def _minutes(value: int) -> str:
    if value == 1440:
        return "midnight"
    return clock(datetime(2000, 1, 1, value // 60, value % 60))


def week_url(technician: UUID | None, first: date, **extra: str) -> str:
    query = [f"technician={technician}"] if technician is not None else []
    query.append(f"week={first.isoformat()}")
    query.extend(f"{key}={value}" for key, value in extra.items())
    return "/app/schedule?" + "&".join(query)


@attrs.frozen
class Entry:
    """One line of a day: an appointment, a hold or a busy block."""

    kind: str  # "appointment", "hold" or "busy"
    id: UUID
    start: datetime  # local
    when: str
    title: str
    booking: Booking | None = None
    source: str | None = None  # a busy block's, as stored ("manual", "google", "jobber")
    until: str | None = None  # a hold's expiry, as read

    @property
    def source_text(self) -> str:
        return SOURCES.get(self.source or "", f"From {self.source}")

    @property
    def canceled(self) -> bool:
        return self.booking is not None and self.booking.status is BookingStatus.CANCELED

    @property
    def price(self) -> str | None:
        b = self.booking
        if b is None or b.price_cents is None or b.currency is None:
            return None
        return money(b.price_cents, b.currency)


@attrs.frozen
class Day:
    day: date
    today: bool
    closed: bool
    hours: str
    entries: tuple[Entry, ...]

    @property
    def heading(self) -> str:
        return f"{self.day:%A}, {self.day:%b} {self.day.day}"


def _span(start: datetime, end: datetime, first: datetime, last: datetime) -> str:
    """The part of [start, end) inside the day [first, last), as read on that day."""
    shown_start, shown_end = max(start, first), min(end, last)
    if shown_start == first and shown_end == last:
        return "All day"
    begins = "midnight" if shown_start == first and start < first else clock(shown_start)
    ends = "midnight" if shown_end == last else clock(shown_end)
    return f"{begins} {DASH} {ends}"


def _hours_text(hours: WeeklyHours, day: date) -> str:
    periods = hours.on(day.weekday())
    if not periods:
        return "Not working"
    return ", ".join(f"{_minutes(p.start)} {DASH} {_minutes(p.end)}" for p in periods)


def _item(week: Week, booking: Booking) -> str:
    item = week.items.get(booking.item_id)
    return item.name if item is not None else "A job"


def _day_entries(week: Week, day: date, zone: ZoneInfo) -> list[Entry]:
    first, last = day_bounds(day, zone)
    entries: list[Entry] = []
    for booking in week.appointments:
        if first <= booking.start < last:
            start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
            title = _item(week, booking)
            entries.append(
                Entry(
                    "appointment",
                    booking.id,
                    start,
                    f"{clock(start)} {DASH} {clock(end)}",
                    title,
                    booking,
                )
            )
    for hold in week.holds:
        if first <= hold.start < last:
            start, end = hold.start.astimezone(zone), hold.end.astimezone(zone)
            expires = hold.expires_at.astimezone(zone) if hold.expires_at else None
            entries.append(
                Entry(
                    "hold",
                    hold.id,
                    start,
                    f"{clock(start)} {DASH} {clock(end)}",
                    _item(week, hold),
                    hold,
                    until=None if expires is None else clock(expires),
                )
            )
    for block in week.busy:
        if block.start < last and first < block.end:
            entries.append(_busy(block, first, last, zone))
    return sorted(entries, key=lambda e: (e.start, e.kind, e.id))


def _busy(block: BusyBlock, first: datetime, last: datetime, zone: ZoneInfo) -> Entry:
    start, end = block.start.astimezone(zone), block.end.astimezone(zone)
    shown = _span(start, end, first.astimezone(zone), last.astimezone(zone))
    return Entry("busy", block.id, max(start, first), shown, "Busy", source=block.source)


def days_of(week: Week) -> tuple[Day, ...]:
    zone = week.zone
    return tuple(
        Day(
            day,
            day == week.today,
            day in week.closures,
            _hours_text(week.hours, day),
            tuple(_day_entries(week, day, zone)),
        )
        for day in week.days
    )


@attrs.frozen
class WeekView:
    """What the page shows of a week, and the links around it."""

    week: Week
    days: Sequence[Day]

    @classmethod
    def of(cls, week: Week) -> WeekView:
        return cls(week, days_of(week))

    @property
    def technician_id(self) -> UUID | None:
        return None if self.week.technician is None else self.week.technician.id

    @property
    def title(self) -> str:
        first, last = self.week.first, self.week.first + timedelta(days=6)
        if first.month == last.month:
            return f"{first:%b} {first.day} {DASH} {last.day}, {last.year}"
        return f"{first:%b} {first.day} {DASH} {last:%b} {last.day}, {last.year}"

    def url(self, offset_days: int = 0) -> str:
        return week_url(self.technician_id, self.week.first + timedelta(days=offset_days))

    @property
    def this_week(self) -> str:
        return week_url(self.technician_id, self.week.today)

    @property
    def empty(self) -> bool:
        return not any(day.entries for day in self.days)
