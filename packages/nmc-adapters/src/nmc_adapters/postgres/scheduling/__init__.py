"""Scheduling in PostgreSQL: the setup, bookings, and the window availability reads."""

from nmc_adapters.postgres.scheduling.google import (
    PgGoogleChannels,
    PgGoogleLinks,
    PgGoogleShadow,
)
from nmc_adapters.postgres.scheduling.jobber import PgJobberBlocks, PgJobberLinks
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
    "PgGoogleChannels",
    "PgGoogleLinks",
    "PgGoogleShadow",
    "PgJobberBlocks",
    "PgJobberLinks",
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
    "google_links": PgGoogleLinks,
    "google_channels": PgGoogleChannels,
    "google_shadow": PgGoogleShadow,
    "jobber_links": PgJobberLinks,
    "jobber_blocks": PgJobberBlocks,
}
