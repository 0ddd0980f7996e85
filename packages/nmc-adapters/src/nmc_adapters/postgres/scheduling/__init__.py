"""Scheduling in PostgreSQL: the setup, bookings, and the window availability reads."""

from nmc_adapters.postgres.scheduling.repository import (
    PgBookings,
    PgBusinessHours,
    PgBusyBlocks,
    PgCalendar,
    PgClosures,
    PgSchedulingSettings,
    PgTechnicians,
)

__all__ = [
    "REPOSITORIES",
    "PgBookings",
    "PgBusinessHours",
    "PgBusyBlocks",
    "PgCalendar",
    "PgClosures",
    "PgSchedulingSettings",
    "PgTechnicians",
]

REPOSITORIES = {
    "technicians": PgTechnicians,
    "business_hours": PgBusinessHours,
    "closures": PgClosures,
    "busy_blocks": PgBusyBlocks,
    "scheduling_settings": PgSchedulingSettings,
    "bookings": PgBookings,
    "calendar": PgCalendar,
}
