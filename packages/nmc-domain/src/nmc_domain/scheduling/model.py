"""Who can be booked and when: technicians, weekly hours, closures and busy blocks."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import IntEnum
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput

__all__ = [
    "MAX_BUSY_BLOCK",
    "BusyBlock",
    "Closure",
    "Period",
    "Technician",
    "Weekday",
    "WeeklyHours",
    "format_minutes",
    "new_busy_block",
    "new_closure",
    "new_technician",
    "normalize_email",
    "parse_minutes",
    "weekly_hours",
]

_NAME_MAX = 100
_REASON_MAX = 200
_EMAIL_MAX = 254
# One @, no spaces, a dot in the domain: enough to match an external calendar's user by it.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLOCK = re.compile(r"^(?P<h>[0-9]{2}):(?P<m>[0-9]{2})$")
MAX_BUSY_BLOCK = timedelta(days=31)


class Weekday(IntEnum):
    """Monday is 0, as `date.weekday()` counts."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6

    @property
    def label(self) -> str:
        return self.name.lower()


def parse_minutes(text: str, field: str, *, end: bool = False) -> int:
    """ "08:30" -> 510 minutes after midnight; "24:00" only as the end of a period."""
    found = _CLOCK.match(text) if isinstance(text, str) else None
    if found is None:
        raise InvalidInput(field, f"expected a time like 08:30, got {text!r}")
    hours, minutes = int(found["h"]), int(found["m"])
    value = hours * 60 + minutes
    if minutes > 59 or value > (1440 if end else 1439):
        raise InvalidInput(field, f"not a time of day: {text!r}")
    return value


def format_minutes(value: int) -> str:
    return f"{value // 60:02d}:{value % 60:02d}"


@attrs.frozen(order=True)
class Period:
    """Open from `start` to `end` minutes after local midnight on `weekday` (end may be 1440)."""

    weekday: Weekday
    start: int
    end: int


@attrs.frozen
class WeeklyHours:
    """Opening periods, several a day allowed (split shifts), never overlapping."""

    periods: tuple[Period, ...] = ()

    def on(self, weekday: int) -> tuple[Period, ...]:
        return tuple(period for period in self.periods if period.weekday == weekday)


def weekly_hours(periods: Sequence[tuple[str, str, str]]) -> WeeklyHours:
    """Validate (weekday, start, end) triples; errors name `periods[i]` (the i-th given)."""
    parsed: list[tuple[Period, int]] = []
    for index, (weekday, start, end) in enumerate(periods):
        field = f"periods[{index}]"
        try:
            day = Weekday[str(weekday).strip().upper()]
        except KeyError:
            raise InvalidInput(f"{field}.weekday", f"expected mon…sun, got {weekday!r}") from None
        begin = parse_minutes(start, f"{field}.start")
        finish = parse_minutes(end, f"{field}.end", end=True)
        if finish <= begin:
            raise InvalidInput(field, f"ends ({end}) before it starts ({start})")
        parsed.append((Period(day, begin, finish), index))
    parsed.sort()
    for (before, _), (after, index) in itertools.pairwise(parsed):
        if before.weekday == after.weekday and after.start < before.end:
            raise InvalidInput(
                f"periods[{index}]",
                f"overlaps another {after.weekday.label} period "
                f"({format_minutes(before.start)} to {format_minutes(before.end)})",
            )
    return WeeklyHours(tuple(period for period, _ in parsed))


def normalize_email(value: str | None) -> str | None:
    """A technician's email, trimmed and lower-cased (how external calendars' users are
    matched); None or blank: no email. InvalidInput naming `email` when it is not one."""
    if value is None or not value.strip():
        return None
    email = value.strip().lower()
    if len(email) > _EMAIL_MAX or not _EMAIL.match(email):
        raise InvalidInput("email", f"not an email address: {value!r}")
    return email


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    if len(name) > _NAME_MAX:
        raise InvalidInput("name", f"longer than {_NAME_MAX} characters")
    return name


@attrs.frozen
class Technician:
    """A bookable person. `item_ids` None: can do every item; `hours` None: the tenant's;
    `email` (lower-cased) maps them to an external calendar's user (Jobber's assignees)."""

    id: UUID
    tenant_id: UUID
    name: str
    active: bool = True
    item_ids: frozenset[UUID] | None = None
    hours: WeeklyHours | None = None
    email: str | None = None

    def can_do(self, item_id: UUID) -> bool:
        return self.active and (self.item_ids is None or item_id in self.item_ids)

    def renamed(self, name: str) -> Technician:
        return attrs.evolve(self, name=_name(name))


def new_technician(
    *,
    tenant_id: UUID,
    name: str,
    item_ids: Iterable[UUID] | None = None,
    technician_id: UUID | None = None,
    email: str | None = None,
) -> Technician:
    return Technician(
        id=technician_id or uuid.uuid4(),
        tenant_id=tenant_id,
        name=_name(name),
        item_ids=None if item_ids is None else frozenset(item_ids),
        email=normalize_email(email),
    )


@attrs.frozen
class Closure:
    """A date the business is closed (a holiday), in the tenant's time zone."""

    id: UUID
    tenant_id: UUID
    day: date
    reason: str


def new_closure(*, tenant_id: UUID, day: date, reason: str) -> Closure:
    reason = reason.strip()
    if len(reason) > _REASON_MAX:
        raise InvalidInput("reason", f"longer than {_REASON_MAX} characters")
    return Closure(uuid.uuid4(), tenant_id, day, reason)


@attrs.frozen
class BusyBlock:
    """Time a technician is not available for us. `source` says who put it there (manual,
    or an external calendar with its own `external_id`)."""

    id: UUID
    tenant_id: UUID
    technician_id: UUID
    start: datetime
    end: datetime
    source: str = "manual"
    external_id: str | None = None


def new_busy_block(
    *, tenant_id: UUID, technician_id: UUID, start: datetime, end: datetime
) -> BusyBlock:
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("start", "needs a UTC offset")
    if end <= start:
        raise InvalidInput("end", "must be after start")
    if end - start > MAX_BUSY_BLOCK:
        raise InvalidInput("end", "a busy block may last at most 31 days")
    return BusyBlock(uuid.uuid4(), tenant_id, technician_id, start, end)
