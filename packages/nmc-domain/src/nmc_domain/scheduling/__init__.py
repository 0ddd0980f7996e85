"""Scheduling: technicians, hours, busy blocks, availability, holds and appointments."""

from nmc_domain.scheduling.availability import (
    Calendar,
    Slot,
    check_bookable,
    find_slots,
    is_free,
)
from nmc_domain.scheduling.booking import Booking, BookingStatus, new_hold
from nmc_domain.scheduling.errors import HoldExpired, NotBookable, SlotTaken
from nmc_domain.scheduling.events import (
    AppointmentBooked,
    AppointmentCanceled,
    AppointmentHeld,
    AppointmentRescheduled,
)
from nmc_domain.scheduling.model import (
    BusyBlock,
    Closure,
    Period,
    Technician,
    Weekday,
    WeeklyHours,
    format_minutes,
    weekly_hours,
)
from nmc_domain.scheduling.ports import CalendarWindow, SchedulingUnitOfWork
from nmc_domain.scheduling.reservations import (
    Availability,
    HoldRequest,
    Scheduled,
    available_slots,
    book,
    book_hold,
    cancel_appointment,
    hold_slot,
    list_appointments,
    place_hold,
    release,
    release_hold,
    reschedule_appointment,
)
from nmc_domain.scheduling.settings import SETTING_RANGES, SchedulingSettings

__all__ = [
    "SETTING_RANGES",
    "AppointmentBooked",
    "AppointmentCanceled",
    "AppointmentHeld",
    "AppointmentRescheduled",
    "Availability",
    "Booking",
    "BookingStatus",
    "BusyBlock",
    "Calendar",
    "CalendarWindow",
    "Closure",
    "HoldExpired",
    "HoldRequest",
    "NotBookable",
    "Period",
    "Scheduled",
    "SchedulingSettings",
    "SchedulingUnitOfWork",
    "Slot",
    "SlotTaken",
    "Technician",
    "Weekday",
    "WeeklyHours",
    "available_slots",
    "book",
    "book_hold",
    "cancel_appointment",
    "check_bookable",
    "find_slots",
    "format_minutes",
    "hold_slot",
    "is_free",
    "list_appointments",
    "new_hold",
    "place_hold",
    "release",
    "release_hold",
    "reschedule_appointment",
    "weekly_hours",
]
