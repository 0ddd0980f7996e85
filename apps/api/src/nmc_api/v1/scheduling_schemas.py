"""JSON shapes of the scheduling routes: setup (technicians, hours, closures, busy blocks,
settings) and bookings (availability, holds, appointments). Times are RFC 3339; answers carry
the tenant's own UTC offset."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET, Meta, UnsetType

from nmc_api.v1.fields import NO_CONTROLS, Name
from nmc_domain.scheduling.booking import Booking
from nmc_domain.scheduling.model import BusyBlock, Closure, Technician, WeeklyHours, format_minutes
from nmc_domain.scheduling.settings import SETTING_RANGES, SchedulingSettings

__all__ = [
    "AppointmentIn",
    "AppointmentList",
    "AppointmentOut",
    "BusyBlockIn",
    "BusyBlockList",
    "BusyBlockOut",
    "ClosureIn",
    "ClosureList",
    "ClosureOut",
    "HoldIn",
    "HoldOut",
    "HoursIO",
    "PeriodIO",
    "RescheduleIn",
    "SettingsOut",
    "SettingsPatch",
    "SlotList",
    "SlotOut",
    "TechnicianIn",
    "TechnicianList",
    "TechnicianOut",
    "TechnicianPatch",
    "local",
]

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[
    str,
    Meta(
        pattern=r"^[0-9]{2}:[0-9]{2}\Z",
        extra_json_schema={"pattern": "^[0-9]{2}:[0-9]{2}$"},
        description="Local time HH:MM (24:00 allowed as an end)",
    ),
]
Reason = Annotated[
    str,
    Meta(
        pattern=NO_CONTROLS + r"\Z",
        extra_json_schema={"pattern": NO_CONTROLS + "$"},
        max_length=200,
        description="Why (shown to the owner); at most 200 characters",
    ),
]
Phone = Annotated[
    str,
    Meta(
        pattern=r"^\+[1-9][0-9]{6,14}\Z",
        extra_json_schema={"pattern": r"^\+[1-9][0-9]{6,14}$"},
        description="E.164, like +14155550123",
    ),
]


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The instant in the tenant's zone (so it is written with the tenant's offset)."""
    return moment.astimezone(zone)


class PeriodIO(msgspec.Struct, forbid_unknown_fields=True):
    weekday: Weekday
    start: Clock
    end: Clock


class HoursIO(msgspec.Struct, forbid_unknown_fields=True):
    periods: Annotated[list[PeriodIO], Meta(max_length=7 * 48)]

    @classmethod
    def of(cls, hours: WeeklyHours) -> HoursIO:
        return cls(
            [
                PeriodIO(p.weekday.label, format_minutes(p.start), format_minutes(p.end))  # type: ignore[arg-type]
                for p in hours.periods
            ]
        )

    def triples(self) -> tuple[tuple[str, str, str], ...]:
        return tuple((p.weekday, p.start, p.end) for p in self.periods)


class TechnicianOut(msgspec.Struct):
    id: UUID
    name: str
    active: bool
    # null: the technician can do every catalog item.
    item_ids: list[UUID] | None
    # null: the technician works the tenant's business hours.
    hours: HoursIO | None
    # Lower-cased; Jobber's assigned users map to technicians by it. null: none.
    email: str | None

    @classmethod
    def of(cls, technician: Technician) -> TechnicianOut:
        items = None if technician.item_ids is None else sorted(technician.item_ids, key=str)
        hours = None if technician.hours is None else HoursIO.of(technician.hours)
        return cls(
            technician.id, technician.name, technician.active, items, hours, technician.email
        )


Email = Annotated[str, Meta(max_length=254)]


class TechnicianIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    item_ids: Annotated[list[UUID], Meta(max_length=500)] | None = None
    email: Email | None = None


class TechnicianPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; `item_ids: null` means every item, `hours: null` the
    tenant's hours."""

    name: Name | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    item_ids: Annotated[list[UUID], Meta(max_length=500)] | UnsetType | None = UNSET
    hours: HoursIO | UnsetType | None = UNSET
    email: Email | UnsetType | None = UNSET


class TechnicianList(msgspec.Struct):
    items: list[TechnicianOut]
    next_cursor: str | None


class ClosureIn(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    reason: Reason = ""


class ClosureOut(msgspec.Struct):
    id: UUID
    date: date
    reason: str

    @classmethod
    def of(cls, closure: Closure) -> ClosureOut:
        return cls(closure.id, closure.day, closure.reason)


class ClosureList(msgspec.Struct):
    items: list[ClosureOut]
    next_cursor: str | None


class BusyBlockIn(msgspec.Struct, forbid_unknown_fields=True):
    technician_id: UUID
    start: datetime
    end: datetime


class BusyBlockOut(msgspec.Struct):
    id: UUID
    technician_id: UUID
    start: datetime
    end: datetime
    source: str
    external_id: str | None

    @classmethod
    def of(cls, block: BusyBlock) -> BusyBlockOut:
        return cls(
            block.id, block.technician_id, block.start, block.end, block.source, block.external_id
        )


class BusyBlockList(msgspec.Struct):
    items: list[BusyBlockOut]
    next_cursor: str | None


def _setting(field: str, description: str) -> Meta:
    low, high = SETTING_RANGES[field]
    return Meta(ge=low, le=high, description=f"{description} ({low} to {high})")


Granularity = Annotated[int, _setting("slot_granularity_minutes", "Minutes between offered starts")]
Buffer = Annotated[int, _setting("buffer_minutes", "Minutes kept free after each job")]
Notice = Annotated[
    int, _setting("min_notice_minutes", "Minutes ahead a job may start at the earliest")
]
Horizon = Annotated[int, _setting("horizon_days", "Days ahead a job may be booked")]
HoldTtl = Annotated[int, _setting("hold_ttl_minutes", "Minutes a held slot stays held")]
DailyLimit = Annotated[int, _setting("daily_limit_per_technician", "Jobs per technician per day")]


class SettingsOut(msgspec.Struct):
    slot_granularity_minutes: int
    buffer_minutes: int
    min_notice_minutes: int
    horizon_days: int
    hold_ttl_minutes: int
    daily_limit_per_technician: int | None

    @classmethod
    def of(cls, settings: SchedulingSettings) -> SettingsOut:
        return cls(
            settings.slot_granularity_minutes,
            settings.buffer_minutes,
            settings.min_notice_minutes,
            settings.horizon_days,
            settings.hold_ttl_minutes,
            settings.daily_limit_per_technician,
        )


class SettingsPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change; `daily_limit_per_technician: null` removes the limit."""

    slot_granularity_minutes: Granularity | UnsetType = UNSET
    buffer_minutes: Buffer | UnsetType = UNSET
    min_notice_minutes: Notice | UnsetType = UNSET
    horizon_days: Horizon | UnsetType = UNSET
    hold_ttl_minutes: HoldTtl | UnsetType = UNSET
    daily_limit_per_technician: DailyLimit | UnsetType | None = UNSET

    def changes(self) -> dict[str, object]:
        return {
            field: value
            for field in self.__struct_fields__
            if (value := getattr(self, field)) is not UNSET
        }


class SlotOut(msgspec.Struct):
    technician_id: UUID
    start: datetime
    end: datetime


class SlotList(msgspec.Struct):
    slots: list[SlotOut]


class HoldIn(msgspec.Struct, forbid_unknown_fields=True):
    item_id: UUID
    technician_id: UUID
    start: datetime
    contact_phone: Phone


class HoldOut(msgspec.Struct):
    hold_id: UUID
    expires_at: datetime | None
    status: str
    technician_id: UUID
    item_id: UUID
    start: datetime
    end: datetime
    contact_phone: str

    @classmethod
    def of(cls, hold: Booking, zone: ZoneInfo) -> HoldOut:
        expires = None if hold.expires_at is None else local(hold.expires_at, zone)
        return cls(
            hold.id,
            expires,
            hold.status.value,
            hold.technician_id,
            hold.item_id,
            local(hold.start, zone),
            local(hold.end, zone),
            hold.contact_phone,
        )


class AppointmentIn(msgspec.Struct, forbid_unknown_fields=True):
    hold_id: UUID


class RescheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    technician_id: UUID
    start: datetime


class AppointmentOut(msgspec.Struct):
    id: UUID
    start: datetime
    end: datetime
    technician_id: UUID
    item_id: UUID
    contact_phone: str
    price_cents: int | None
    currency: str | None
    status: str

    @classmethod
    def of(cls, booking: Booking, zone: ZoneInfo) -> AppointmentOut:
        return cls(
            booking.id,
            local(booking.start, zone),
            local(booking.end, zone),
            booking.technician_id,
            booking.item_id,
            booking.contact_phone,
            booking.price_cents,
            booking.currency,
            booking.status.value,
        )


class AppointmentList(msgspec.Struct):
    items: list[AppointmentOut]
    next_cursor: str | None
